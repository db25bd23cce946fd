#!/usr/bin/env bash
# A private Courier (IMAP and POP3, STARTTLS offered, userdb logins) on loopback for the tests that
# check mailpull against servers other than Dovecot. It runs from Debian's packages unpacked under
# $CACHE_DIR/courier (scripts/setup.sh --test), never installed: Courier reads fixed paths
# (/etc/courier, /run/courier, /usr/lib/courier...), so it runs in a mount namespace of its own
# where those paths are overlays onto DIR and the unpacked packages; the machine is left as it is.
#   scripts/courier.sh start DIR                  writes config and certificate under DIR, starts it
#   scripts/courier.sh stop DIR                   stops the instance started in DIR
#   scripts/courier.sh adduser DIR NAME PASSWORD  a mailbox user (Maildir under DIR/home/NAME)
# Ports come from COURIER_IMAP_PORT and COURIER_POP3_PORT.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

cmd=${1:?start|stop|adduser}; dir=${2:?directory}
mkdir -p "$dir"; dir="$(cd "$dir" && pwd)"
root="$(other_server_root courier)"
imap=${COURIER_IMAP_PORT:-11243}; pop3=${COURIER_POP3_PORT:-11210}
export LD_LIBRARY_PATH="$root/usr/lib:$root/usr/lib/courier-authlib"

# userdb.dat and userdbshadow.dat (the pw= fields) from the text file DIR/etc/userdb: what
# makeuserdb does, without its fixed paths
build_userdb() {
  local makedat="$root/usr/lib/courier/courier-authlib/makedatprog"
  { awk -F'\t' '{ n = split($2, f, "|"); out = ""; for (i = 1; i <= n; i++) if (f[i] !~ /^[^=]*pw=/) out = out f[i] "|"; print $1 "\t" out "_=" }' "$dir/etc/userdb"; echo .; } |
    "$makedat" - "$dir/etc/userdb.tmp" "$dir/etc/userdb.dat"
  { awk -F'\t' '{ n = split($2, f, "|"); out = ""; for (i = 1; i <= n; i++) if (f[i] ~ /^[^=]*pw=/) out = out (out == "" ? "" : "|") f[i]; print $1 "\t" out }' "$dir/etc/userdb"; echo .; } |
    "$makedat" - "$dir/etc/userdbshadow.tmp" "$dir/etc/userdbshadow.dat"
  chmod 600 "$dir/etc/userdbshadow.dat"
}

start() {
  stop
  [ -x "$root/usr/lib/courier/courier/imaplogin" ] || { log "Courier is not unpacked: run scripts/setup.sh --test"; exit 1; }
  port_free "$imap" "Courier IMAP"; port_free "$pop3" "Courier POP3"
  mkdir -p "$dir/etc" "$dir/run/authdaemon" "$dir/home" "$dir/top/etc/courier" "$dir/top/run/courier"
  chown mail:mail "$dir/home"
  ensure_test_tls "$dir/tls"
  cat "$dir/tls/server.key" "$dir/tls/server.pem" > "$dir/etc/server.pem"
  # Courier drops to the user "courier" for TLS: in the namespace it is Debian's mail user
  { grep -v '^courier:' /etc/passwd; echo "courier:x:$(id -u mail):$(id -g mail)::/nonexistent:/usr/sbin/nologin"; } > "$dir/top/etc/passwd"
  { grep -v '^courier:' /etc/group; echo "courier:x:$(id -g mail):"; } > "$dir/top/etc/group"
  chmod 600 "$dir/etc/server.pem"; chown mail:mail "$dir/etc/server.pem"
  cat > "$dir/etc/authdaemonrc" <<CONF
authmodulelist="authuserdb"
daemons=2
authdaemonvar=/run/courier/authdaemon
DEBUG_LOGIN=0
DEFAULTOPTIONS=""
LOGGEROPTS=""
CONF
  [ -f "$dir/etc/userdb" ] || install -m 600 /dev/null "$dir/etc/userdb"
  build_userdb
  setsid unshare --mount --propagation private "$0" run "$dir" > "$dir/courier.log" 2>&1 < /dev/null &
  echo $! > "$dir/pid"
  wait_for_port "$imap" "Courier IMAP"
  wait_for_port "$pop3" "Courier POP3"
  # the ports open before the authentication daemon listens: a login then would be refused
  for _ in $(seq 150); do [ -S "$dir/run/authdaemon/socket" ] && return 0; sleep 0.2; done
  log "Courier's authdaemond did not open $dir/run/authdaemon/socket"; return 1
}

# In the private mount namespace: Courier's fixed paths onto DIR and the unpacked packages, then
# the authentication daemon and a couriertcpd for each protocol, in the foreground.
run() {
  mount -t overlay overlay -o "lowerdir=$root/usr:/usr" /usr
  mount -t overlay overlay -o "lowerdir=$dir/top/etc:/etc" /etc
  mount --bind "$dir/etc" /etc/courier
  mount -t overlay overlay -o "lowerdir=$dir/top/run:/run" /run
  mount --bind "$dir/run" /run/courier
  trap 'kill $(jobs -p) 2>/dev/null; wait' TERM INT
  /usr/lib/courier/courier-authlib/authdaemond &
  export COURIERTLS=/usr/bin/couriertls TLS_CERTFILE=/etc/courier/server.pem TLS_PROTOCOL=TLS1_2+ \
    TLS_VERIFYPEER=NONE TLS_CACHEFILE= TLS_TRUSTCERTS=/etc/ssl/certs/ca-certificates.crt
  local tcpd=(/usr/sbin/couriertcpd -address=127.0.0.1 -maxprocs=40 -maxperip=40 -nodnslookup -noidentlookup)
  # no IMAP_EMPTYTRASH: Courier would purge old messages from Trash at logout
  IMAP_CAPABILITY="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE" \
    IMAP_CAPABILITY_TLS="IMAP4rev1 UIDPLUS CHILDREN NAMESPACE QUOTA IDLE AUTH=PLAIN" \
    IMAP_STARTTLS=YES IMAP_TLS_REQUIRED=0 IMAP_KEYWORDS=1 IMAP_ACL=1 IMAP_IDLE_TIMEOUT=60 \
    IMAP_ENHANCEDIDLE=0 IMAP_USELOCKS=1 IMAP_TRASHFOLDERNAME=Trash IMAP_EMPTYTRASH= \
    IMAP_MAILBOX_SANITY_CHECK=1 IMAP_UMASK=022 \
    "${tcpd[@]}" "$imap" /usr/lib/courier/courier/imaplogin /usr/bin/imapd Maildir &
  POP3AUTH="" POP3AUTH_TLS="LOGIN PLAIN" POP3_STARTTLS=YES POP3_TLS_REQUIRED=0 \
    MIME_UNICODE_MESSAGE_TYPE=message/global \
    "${tcpd[@]}" "$pop3" /usr/lib/courier/courier/courierpop3login /usr/lib/courier/courier/courierpop3d Maildir &
  wait
}

stop() {
  local pid
  [ -f "$dir/pid" ] || return 0
  pid=$(cat "$dir/pid")
  # the namespace's processes are one session (setsid) of which this pid leads the group
  if kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$dir/pid"
}

adduser() {
  local name=${3:?name} password=${4:?password} home="$dir/home/${3}"
  mkdir -p "$home/Maildir/cur" "$home/Maildir/new" "$home/Maildir/tmp"
  chown -R mail:mail "$home"
  printf '%s\tuid=%s|gid=%s|home=%s|mail=%s/Maildir|systempw=%s\n' "$name" "$(id -u mail)" "$(id -g mail)" \
    "$home" "$home" "$(openssl passwd -6 "$password")" >> "$dir/etc/userdb"
  build_userdb
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  run) run ;;
  adduser) adduser "$@" ;;
  *) log "unknown command $cmd"; exit 2 ;;
esac
