#!/usr/bin/env bash
# The full test suite: lint, then every test (race detector on), on a fresh
# machine with only Go installed.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== gofmt, go vet and staticcheck"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change: $unformatted" >&2
  exit 1
fi
go vet ./...
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== test peers (DuckDB, versitygw, cognito-local, boto3, AWS CLI, Chromium)"
./scripts/install-test-deps.sh

# The tests that measure call rates against the emulator's quotas run on
# their own afterwards: beside the other packages' tests (go test runs two
# packages at once here) they would measure a starved machine.
rates='^(TestJobUsesTheQuotaWithoutThrottling|TestJobSettlesBesideACompetingClient)$'

echo "== go test"
# Every peer must be there: a missing one fails the run instead of skipping.
COGNITO_EXPORT_REQUIRE_PEERS=1 go test -race -count=1 -timeout 15m -skip "$rates" ./...
echo "== go test: call rates at the quotas, alone"
COGNITO_EXPORT_REQUIRE_PEERS=1 go test -race -count=1 -timeout 5m -run "$rates" ./export/
