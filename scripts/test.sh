#!/usr/bin/env bash
# The one test command (`npm test`): makes sure the brokers the integration tier needs are up on
# loopback, builds, and runs every jest project (unit + integration).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
npm run --silent build
export FK_TEST_AMQP_URL="${FK_TEST_AMQP_URL:-amqp://guest:guest@127.0.0.1:5672}"
npx jest --runInBand "$@"
