#!/usr/bin/env bash
# Starts (and where needed installs) the local services the integration tests use, and exports
# nothing: tests find them through FK_TEST_* defaults pointing at loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

amqp_up() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }
if ! amqp_up; then
  echo "services: starting RabbitMQ" >&2
  rabbitmq-server -detached || true
  for _ in $(seq 1 60); do amqp_up && break; sleep 1; done
  amqp_up || { echo "services: RabbitMQ did not start on 127.0.0.1:5672" >&2; exit 1; }
fi

# --- XMPP (Prosody) -------------------------------------------------------------------------------
# A project-owned Prosody (docker/prosody/prosody.cfg.lua) with data, pid file and log under
# FK_PROSODY_DIR, listening on 127.0.0.1:FK_PROSODY_PORT. Skipped when FK_TEST_XMPP_SERVICE points
# the tests at another server. See docs/xmpp.md.
if [ -z "${FK_TEST_XMPP_SERVICE:-}" ]; then
  export FK_PROSODY_DIR="${FK_PROSODY_DIR:-/tmp/fk-prosody}"
  export FK_PROSODY_PORT="${FK_PROSODY_PORT:-5222}"
  export FK_PROSODY_DOMAIN="${FK_PROSODY_DOMAIN:-localhost}"
  # Tests create a fresh account per log through in-band registration (XEP-0077), loopback only.
  export FK_PROSODY_ALLOW_REGISTRATION="${FK_PROSODY_ALLOW_REGISTRATION:-true}"
  prosody_cfg="$PWD/docker/prosody/prosody.cfg.lua"
  prosodyctl_fk() { prosodyctl --config "$prosody_cfg" "$@"; }

  if ! command -v prosody >/dev/null || ! dpkg -s lua-dbi-sqlite3 >/dev/null 2>&1; then
    echo "services: installing prosody and lua-dbi-sqlite3" >&2
    [ "$(id -u)" = 0 ] || { echo "services: prosody is missing; run as root or: apt-get install -y prosody lua-dbi-sqlite3" >&2; exit 1; }
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq prosody lua-dbi-sqlite3 >/dev/null
  fi

  xmpp_ours_alive() { [ -s "$FK_PROSODY_DIR/prosody.pid" ] && kill -0 "$(cat "$FK_PROSODY_DIR/prosody.pid")" 2>/dev/null; }
  xmpp_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$FK_PROSODY_PORT") 2>/dev/null; }
  # Answers = opens an XMPP stream for our virtual host and offers stream features.
  xmpp_answers() {
    timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
      printf "%s" "<?xml version=\"1.0\"?><stream:stream to=\"$2\" version=\"1.0\" xmlns=\"jabber:client\" xmlns:stream=\"http://etherx.jabber.org/streams\"></stream:stream>" >&3
      cat <&3' _ "$FK_PROSODY_PORT" "$FK_PROSODY_DOMAIN" 2>/dev/null | grep -q "stream:features"
  }

  if ! xmpp_ours_alive; then
    if xmpp_port_open; then
      # Debian's package starts its own prosody (/etc/prosody) on 5222: stop it, ours replaces it.
      if [ -s /run/prosody/prosody.pid ] && kill -0 "$(cat /run/prosody/prosody.pid)" 2>/dev/null; then
        echo "services: stopping the system prosody that holds port $FK_PROSODY_PORT" >&2
        if command -v systemctl >/dev/null && systemctl is-active --quiet prosody 2>/dev/null; then
          systemctl stop prosody
        else
          prosodyctl stop >/dev/null 2>&1 || service prosody stop >/dev/null 2>&1 || true
        fi
        for _ in $(seq 1 20); do xmpp_port_open || break; sleep 0.5; done
      fi
      if xmpp_port_open; then
        echo "services: 127.0.0.1:$FK_PROSODY_PORT is taken by another process; set FK_PROSODY_PORT" >&2
        exit 1
      fi
    fi
    echo "services: starting Prosody on 127.0.0.1:$FK_PROSODY_PORT (data in $FK_PROSODY_DIR)" >&2
    mkdir -p "$FK_PROSODY_DIR/data" "$FK_PROSODY_DIR/certs"
    [ "$(id -u)" = 0 ] && chown -R prosody:prosody "$FK_PROSODY_DIR"
    prosodyctl_fk start >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 60); do xmpp_answers && break; sleep 0.5; done
  xmpp_answers || { echo "services: Prosody did not answer on 127.0.0.1:$FK_PROSODY_PORT (see $FK_PROSODY_DIR/prosody.log)" >&2; exit 1; }

  # Fixed test accounts (idempotent: register sets the password of an existing account).
  prosodyctl_fk register fk-test "$FK_PROSODY_DOMAIN" fk-test-pass >/dev/null
  prosodyctl_fk register fk-test-2 "$FK_PROSODY_DOMAIN" fk-test-2-pass >/dev/null
fi
