#!/usr/bin/env bash
# A private Dovecot (POP3, IMAP, LMTP) on loopback for tests and benchmarks.
#   scripts/dovecot.sh start DIR   writes config, certificate and passwd-file under DIR, starts it
#   scripts/dovecot.sh stop DIR    stops the instance started in DIR (by its master pid)
#   scripts/dovecot.sh restart DIR stops and starts it again (sessions cut, mail kept)
# Ports come from DOVECOT_POP3_PORT, DOVECOT_POP3S_PORT, DOVECOT_IMAP_PORT, DOVECOT_IMAPS_PORT,
# DOVECOT_LMTP_PORT. Users are lines appended to DIR/passwd by the tests. XOAUTH2 tokens are checked
# by OAuth2 introspection (RFC 7662) at http://127.0.0.1:DOVECOT_OAUTH2_PORT/token/introspection, the
# OAuth2 tests' authorization server (oidc-provider), as client DIR/oauth2-introspection-client
# (id:secret); the token's "sub" is the user. Delivery tests use: the master user in DIR/master-users (IMAP APPEND as any
# user), per-user quota rules as passwd-file extra fields (userdb_quota_rule=…), and
# DIR/quota-full.conf ("quota_full_tempfail = yes|no", read at start and on "doveadm reload").
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
pop3=${DOVECOT_POP3_PORT:-11110}; pop3s=${DOVECOT_POP3S_PORT:-11995}
imap=${DOVECOT_IMAP_PORT:-11143}; imaps=${DOVECOT_IMAPS_PORT:-11993}; lmtp=${DOVECOT_LMTP_PORT:-11024}
oauth2=${DOVECOT_OAUTH2_PORT:-11080}

start() {
  stop
  mkdir -p "$dir/run" "$dir/home" "$dir/tls"
  # Mail is owned by Debian's "mail" user; Dovecot refuses to access mail as root.
  chown mail:mail "$dir/home"
  touch "$dir/passwd"
  [ -f "$dir/master-users" ] || echo "mailpull-master:{PLAIN}$(openssl rand -hex 12)" > "$dir/master-users"
  [ -f "$dir/quota-full.conf" ] || echo "quota_full_tempfail = no" > "$dir/quota-full.conf"
  ensure_test_tls "$dir/tls"
  # the client Dovecot introspects with (HTTP Basic), registered at the tests' authorization server
  [ -f "$dir/oauth2-introspection-client" ] || echo "dovecot:$(openssl rand -hex 16)" > "$dir/oauth2-introspection-client"
  cat > "$dir/dovecot-oauth2.conf.ext" <<CONF
introspection_mode = post
introspection_url = http://$(cat "$dir/oauth2-introspection-client")@127.0.0.1:$oauth2/token/introspection
force_introspection = yes
username_attribute = sub
active_attribute = active
active_value = true
CONF
  cat > "$dir/dovecot.conf" <<CONF
base_dir = $dir/run
instance_name = mailpull-test-$(basename "$dir")
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
log_timestamp = "%Y-%m-%d %H:%M:%S.%{usecs} "
login_trusted_networks =
listen = 127.0.0.1
protocols = pop3 imap lmtp
ssl = yes
ssl_cert = <$dir/tls/server.pem
ssl_key = <$dir/tls/server.key
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain login apop xoauth2
auth_verbose = yes
auth_username_format = %Ln
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_privileged_group =
default_login_user = dovenull
default_internal_user = dovecot
pop3_uidl_format = %08Xu%08Xv
mail_plugins = \$mail_plugins quota
plugin {
  quota = count:User quota
  quota_vsizes = yes
}
!include $dir/quota-full.conf
auth_master_user_separator = *
protocol pop3 {
  pop3_client_workarounds =
}
passdb {
  driver = passwd-file
  master = yes
  args = scheme=PLAIN $dir/master-users
  # the user logged in as must exist in the next passdb
  result_success = continue
}
passdb {
  driver = passwd-file
  # "none": lookups without a login (doveadm, LMTP) still find the users
  mechanisms = none plain login apop
  args = scheme=PLAIN username_format=%u $dir/passwd
}
passdb {
  driver = oauth2
  mechanisms = xoauth2
  args = $dir/dovecot-oauth2.conf.ext
}
userdb {
  # the same file: a line's extra fields may carry userdb_quota_rule
  driver = passwd-file
  args = username_format=%u $dir/passwd
  default_fields = uid=mail gid=mail home=$dir/home/%u
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $pop3
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $pop3s
    ssl = yes
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $imap
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $imaps
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $lmtp
  }
  unix_listener lmtp {
    mode = 0666
  }
}
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
CONF
  mkdir -p "$dir/state"
  dovecot -c "$dir/dovecot.conf"
  wait_for_port "$pop3" "Dovecot POP3"
  wait_for_port "$imap" "Dovecot IMAP"
}

stop() {
  [ -f "$dir/run/master.pid" ] && stop_pidfile "$dir/run/master.pid"
  return 0
}

case "$cmd" in
  start|restart) start ;;
  stop) stop ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac
