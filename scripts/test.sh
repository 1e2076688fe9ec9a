#!/usr/bin/env bash
# The one test command (`npm test`): makes sure the brokers the integration tier needs are up on
# loopback, builds, and runs every jest project (unit + integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
npm run --silent build
export FK_TEST_AMQP_URL="${FK_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
[ -n "${FK_TEST_XMPP_SERVICE:-}" ] || export FK_TEST_XMPP_RESTART_CMD="${FK_TEST_XMPP_RESTART_CMD:-bash scripts/prosody.sh restart}"
export FK_TEST_XMPP_SERVICE="${FK_TEST_XMPP_SERVICE:-xmpp://127.0.0.1:${FK_PROSODY_PORT:-5222}}"
export FK_TEST_XMPP_DOMAIN="${FK_TEST_XMPP_DOMAIN:-${FK_PROSODY_DOMAIN:-localhost}}"
export FK_TEST_XMPP_USER="${FK_TEST_XMPP_USER:-fk-test}" FK_TEST_XMPP_PASSWORD="${FK_TEST_XMPP_PASSWORD:-fk-test-pass}"
export FK_TEST_XMPP_USER2="${FK_TEST_XMPP_USER2:-fk-test-2}" FK_TEST_XMPP_PASSWORD2="${FK_TEST_XMPP_PASSWORD2:-fk-test-2-pass}"
results="$(mktemp)"
status=0
npx jest --runInBand --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI reads: 'N passed, N failed, N skipped'.
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`)' "$results" || true
rm -f "$results"
exit "$status"
