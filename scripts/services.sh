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
# The project-owned Prosody (scripts/prosody.sh, docker/prosody/prosody.cfg.lua) on 127.0.0.1:5222.
# Skipped when FK_TEST_XMPP_SERVICE points the tests at another server. See docs/xmpp.md.
if [ -z "${FK_TEST_XMPP_SERVICE:-}" ]; then
  bash scripts/prosody.sh start
fi

# --- Flowkeeper's real client (fk serve tests) ------------------------------------------------------
# Debian packages of ../shared/realclient (PySide2, python3-cryptography); see the script.
bash scripts/realclient-deps.sh
