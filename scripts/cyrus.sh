#!/usr/bin/env bash
# A private Cyrus IMAP (IMAP and POP3, STARTTLS offered, sasldb logins) on loopback for the tests
# that check mailpull against servers other than Dovecot. It runs from Debian's packages unpacked
# under $CACHE_DIR/cyrus (scripts/setup.sh --test), never installed; every path it uses is in its
# configuration under DIR, so it needs no namespace. Debian's choices are kept where they shape what
# a client sees: folders under "INBOX." (altnamespace and unixhierarchysep off), the INBOX created
# at the first login; popminpoll is 0 (Debian: 1 minute) so that a test may log in again at once.
#   scripts/cyrus.sh start DIR                  writes config and certificate under DIR, starts it
#   scripts/cyrus.sh stop DIR                   stops the instance started in DIR
#   scripts/cyrus.sh adduser DIR NAME PASSWORD  a mailbox user (its INBOX appears at its first login)
# Ports come from CYRUS_IMAP_PORT and CYRUS_POP3_PORT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop|adduser}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
root="$(other_server_root cyrus)"
imap=${CYRUS_IMAP_PORT:-11343}; pop3=${CYRUS_POP3_PORT:-11310}
# the services run as Debian's mail user, which may not read the cache under a private home: they
# run from a copy under DIR
bin="$dir/bin"
export LD_LIBRARY_PATH="$dir/bin/lib"
REALM=mailpull-test

start() {
  stop
  [ -x "$root/usr/lib/cyrus/bin/master" ] || { log "Cyrus is not unpacked: run scripts/setup.sh --test"; exit 1; }
  port_free "$imap" "Cyrus IMAP"; port_free "$pop3" "Cyrus POP3"
  rm -rf "$bin"; mkdir -p "$bin/lib"
  cp -a "$root/usr/lib/cyrus/bin/." "$bin/"
  cp -a "$root"/usr/lib/x86_64-linux-gnu/libcyrus*.so* "$bin/lib/"
  mkdir -p "$dir/lib/db" "$dir/lib/socket" "$dir/lib/proc" "$dir/lib/log" "$dir/lib/msg" "$dir/lib/user" "$dir/lib/quota" "$dir/spool" "$dir/sieve" "$dir/run/socket" "$dir/run/proc" "$dir/run/lock"
  ensure_test_tls "$dir/tls"
  chown -R mail:mail "$dir/lib" "$dir/spool" "$dir/sieve" "$dir/run"
  chmod 644 "$dir/tls/server.key"
  cat > "$dir/imapd.conf" <<CONF
configdirectory: $dir/lib
proc_path: $dir/run/proc
mboxname_lockpath: $dir/run/lock
defaultpartition: default
partition-default: $dir/spool
sievedir: $dir/sieve
lmtpsocket: $dir/run/socket/lmtp
idlesocket: $dir/run/socket/idle
notifysocket: $dir/run/socket/notify
cyrus_user: mail
cyrus_group: mail
servername: $REALM
altnamespace: no
unixhierarchysep: no
autocreate_quota: 0
popminpoll: 0
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
tls_server_cert: $dir/tls/server.pem
tls_server_key: $dir/tls/server.key
tls_versions: tls1_2 tls1_3
munge8bit: no
reject8bit: no
syslog_prefix: cyrus-mailpull-test
CONF
  cat > "$dir/cyrus.conf" <<CONF
START {
  recover cmd="$bin/ctl_cyrusdb -C $dir/imapd.conf -r"
}
SERVICES {
  imap cmd="$bin/imapd -C $dir/imapd.conf" listen="127.0.0.1:$imap" prefork=0 maxchild=100
  pop3 cmd="$bin/pop3d -C $dir/imapd.conf" listen="127.0.0.1:$pop3" prefork=0 maxchild=100
}
EVENTS {
  checkpoint cmd="$bin/ctl_cyrusdb -C $dir/imapd.conf -c" period=30
}
CONF
  "$bin/master" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/master.pid" -d
  wait_for_port "$imap" "Cyrus IMAP"
  wait_for_port "$pop3" "Cyrus POP3"
}

stop() {
  [ -f "$dir/master.pid" ] && stop_pidfile "$dir/master.pid"
  return 0
}

adduser() {
  local name=${3:?name} password=${4:?password}
  printf '%s' "$password" | LD_LIBRARY_PATH= "$root/usr/sbin/saslpasswd2" -f "$dir/sasldb2" -u "$REALM" -c -p "$name"
  chown mail:mail "$dir/sasldb2"
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  adduser) adduser "$@" ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac
