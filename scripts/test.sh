#!/usr/bin/env bash
# The one test command (`npm test`): makes sure the brokers the integration tier needs are up on
# loopback, builds, and runs both jest projects (unit, then integration).
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
# The unit project runs on 2 workers (its files share nothing); the integration project in band
# (its files share the brokers). Both always run; the closing line adds them up.
unit="$(mktemp)" integration="$(mktemp)"
trap 'rm -f "$unit" "$integration"' EXIT
status=0
# Arguments (paths, -t …) go first: --selectProjects takes every value after it.
npx jest "$@" --selectProjects unit --maxWorkers=2 --passWithNoTests --json --outputFile="$unit" || status=$?
npx jest "$@" --selectProjects integration --runInBand --passWithNoTests --json --outputFile="$integration" ||
  status=$?
[ -s "$unit" ] && [ -s "$integration" ] || status=1 # a jest that crashed wrote no results
# One plain closing line that any CI reads: 'N passed, N failed, N skipped'.
node -e '
const fs = require("fs");
const t = { passed: 0, failed: 0, skipped: 0 };
for (const f of process.argv.slice(1)) {
  const text = fs.existsSync(f) ? fs.readFileSync(f, "utf8") : "";
  if (text === "") { console.error(`fk test: no jest results in ${f}`); continue; }
  const r = JSON.parse(text);
  t.passed += r.numPassedTests; t.failed += r.numFailedTests; t.skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
' "$unit" "$integration" || true
exit "$status"
