#!/usr/bin/env bash
# The project's Prosody for tests and development, without Docker:
#   scripts/prosody.sh start     install if missing, start if not answering, register test accounts
#   scripts/prosody.sh stop | restart | status
# Config: docker/prosody/prosody.cfg.lua. Data, pid file and log live under FK_PROSODY_DIR
# (default /tmp/fk-prosody); c2s listens on 127.0.0.1:FK_PROSODY_PORT (default 5222).
# The Debian defaults in /etc/prosody are left alone; a Debian-started prosody holding the port is
# stopped. See docs/xmpp.md.
set -euo pipefail
cd "$(dirname "$0")/.."

export FK_PROSODY_DIR="${FK_PROSODY_DIR:-/tmp/fk-prosody}"
export FK_PROSODY_PORT="${FK_PROSODY_PORT:-5222}"
export FK_PROSODY_DOMAIN="${FK_PROSODY_DOMAIN:-localhost}"
# Tests create a fresh account (a fresh history) per log through in-band registration (XEP-0077);
# mod_register_limits allows it from loopback only.
export FK_PROSODY_ALLOW_REGISTRATION="${FK_PROSODY_ALLOW_REGISTRATION:-true}"
cfg="$PWD/docker/prosody/prosody.cfg.lua"
ctl() { prosodyctl --config "$cfg" "$@"; }

ensure_installed() {
  if ! command -v prosody >/dev/null || ! dpkg -s lua-dbi-sqlite3 >/dev/null 2>&1; then
    echo "prosody: installing prosody and lua-dbi-sqlite3" >&2
    [ "$(id -u)" = 0 ] || { echo "prosody: missing; run as root or: apt-get install -y prosody lua-dbi-sqlite3" >&2; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prosody lua-dbi-sqlite3 >/dev/null
  fi
}

ours_pid() { [ -s "$FK_PROSODY_DIR/prosody.pid" ] && cat "$FK_PROSODY_DIR/prosody.pid"; }
ours_alive() { local pid; pid="$(ours_pid)" && kill -0 "$pid" 2>/dev/null; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$FK_PROSODY_PORT") 2>/dev/null; }
# Answers = opens an XMPP stream for our virtual host and offers stream features.
answers() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
    printf "%s" "<?xml version=\"1.0\"?><stream:stream to=\"$2\" version=\"1.0\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\"></stream:stream>" >&3
    cat <&3' _ "$FK_PROSODY_PORT" "$FK_PROSODY_DOMAIN" 2>/dev/null | grep -q "stream:features"
}

# SQLite in WAL mode: one fsync per commit instead of several (about 3x the archive write rate).
# Persistent in the database file; Prosody 0.12 has no option for it. Run before Prosody opens it.
use_wal() {
  local db="$FK_PROSODY_DIR/prosody.sqlite" as=()
  [ "$(id -u)" = 0 ] && as=(runuser -u prosody --)
  FK_DB="$db" "${as[@]}" lua5.4 -e 'local DBI = require "DBI"
    local db = assert(DBI.Connect("SQLite3", os.getenv("FK_DB"))); db:autocommit(true)
    local st = assert(db:prepare("PRAGMA journal_mode=WAL")); assert(st:execute()); db:close()' \
    || echo "prosody: could not switch $db to WAL (continuing)" >&2
}

stop_system_prosody() {
  # Debian's package starts its own prosody (/etc/prosody, port 5222) on install.
  [ -s /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null || return 0
  echo "prosody: stopping the system prosody that holds port $FK_PROSODY_PORT" >&2
  if command -v systemctl >/dev/null && systemctl is-active --quiet prosody 2>/dev/null; then
    systemctl stop prosody
  else
    prosodyctl stop >/dev/null 2>&1 || service prosody stop >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 20); do port_open || break; sleep 0.5; done
}

start() {
  ensure_installed
  if ! ours_alive; then
    if port_open; then
      stop_system_prosody
      port_open && { echo "prosody: 127.0.0.1:$FK_PROSODY_PORT is taken by another process; set FK_PROSODY_PORT" >&2; exit 1; }
    fi
    echo "prosody: starting on 127.0.0.1:$FK_PROSODY_PORT (data in $FK_PROSODY_DIR)" >&2
    mkdir -p "$FK_PROSODY_DIR/data" "$FK_PROSODY_DIR/certs"
    if [ "$(id -u)" = 0 ]; then chown -R prosody:prosody "$FK_PROSODY_DIR"; fi
    use_wal
    ctl start >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { echo "prosody: no answer on 127.0.0.1:$FK_PROSODY_PORT (see $FK_PROSODY_DIR/prosody.log)" >&2; exit 1; }
  # Fixed test accounts (idempotent: register sets the password of an existing account).
  ctl register fk-test "$FK_PROSODY_DOMAIN" fk-test-pass >/dev/null
  ctl register fk-test-2 "$FK_PROSODY_DOMAIN" fk-test-2-pass >/dev/null
}

stop() {
  local pid
  pid="$(ours_pid)" || return 0
  kill "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.25; done
  echo "prosody: pid $pid did not stop" >&2
  exit 1
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) if ours_alive && answers; then echo "prosody: running (pid $(ours_pid))"; else echo "prosody: not running"; exit 3; fi ;;
  *) echo "usage: scripts/prosody.sh start|stop|restart|status" >&2; exit 2 ;;
esac
