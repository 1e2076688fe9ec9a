#!/usr/bin/env bash
# Differential run against Flowkeeper's own core (issue 10): random histories replayed by the
# reference (../shared/oracle/fuzz.py) and by `fk state`, each difference shrunk to a minimal
# history. A fresh seed each run, printed so that a failure can be repeated:
#
#   npm run fuzz                        # 300 histories, fresh seed, half of them also lenient
#   FK_FUZZ_SEED=123 npm run fuzz       # repeat a run
#   npm run fuzz -- --count 2000 --size 80    # any further fuzz.py option
#
# Skips (exit 0) with a message where Debian's /usr/bin/python3, python3-cryptography or the
# oracle is missing: the differential run is part of the developer workflow, never of `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

ORACLE="${FK_ORACLE:-../shared/oracle}"
PYTHON=/usr/bin/python3
skip() {
  echo "fuzz: skipped: $1" >&2
  exit 0
}
[ -x "$PYTHON" ] || skip "$PYTHON not found (the reference needs Debian's Python 3.11)"
[ -f "$ORACLE/fuzz.py" ] || skip "no oracle at $ORACLE (set FK_ORACLE to the folder holding fuzz.py)"
"$PYTHON" -c 'import cryptography' 2>/dev/null || skip "python3-cryptography is missing (apt-get install -y python3-cryptography)"

SEED="${FK_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
KEEP="${FK_FUZZ_KEEP:-${TMPDIR:-/tmp}/fk-fuzz-$SEED}"
echo "fuzz: seed $SEED (repeat with FK_FUZZ_SEED=$SEED npm run fuzz); reproducers in $KEEP"
npm run --silent build
exec "$PYTHON" "$ORACLE/fuzz.py" --seed "$SEED" --count 300 --lenient-share 0.5 --keep "$KEEP" --quiet "$@" \
  -- node dist/cli/main.js state
