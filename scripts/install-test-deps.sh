#!/usr/bin/env bash
# Installs the peers the tests use beyond Go. Safe to re-run: each step checks
# what is already there and does nothing when it is current.
#
#   install_duckdb  DuckDB for reading Parquet back (internal/duckdb): npm ci
#                   of the pinned @duckdb/node-api, which ships its native
#                   library. Needs node >= 18 and npm.
#   install_versitygw  a real S3-compatible server for the S3 tests
#                   (internal/s3server), built once with `go install` and
#                   cached outside the work tree, so repeated runs reuse it.
#
# Tests that need a missing peer skip; set COGNITO_EXPORT_REQUIRE_PEERS=1 to
# make them fail instead (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "install-test-deps: $*"; }

install_duckdb() {
  local dir=internal/duckdb
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "node and npm are required for $dir: install Node.js 18 or later" >&2
    return 1
  fi
  # node_modules is current when it was installed from this exact lockfile.
  local want stamp="$dir/node_modules/.cognito-export-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "duckdb: $dir/node_modules is current"
  else
    log "duckdb: npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
  log "duckdb: checking that a query runs"
  (cd "$dir" && node query.mjs "SELECT 1 AS ok" >/dev/null)
  log "duckdb: ready"
}

install_versitygw() {
  local version bin
  version=$(sed -n 's/^const Version = "\(.*\)"$/\1/p' internal/s3server/s3server.go)
  bin="${XDG_CACHE_HOME:-$HOME/.cache}/cognito-export/bin/versitygw-$version"
  if [ -x "$bin" ]; then
    log "versitygw: $bin is cached"
    return 0
  fi
  log "versitygw: go install github.com/versity/versitygw/cmd/versitygw@$version (about a minute, once)"
  local tmp
  tmp=$(mktemp -d)
  GOBIN="$tmp" GOFLAGS=-mod=mod go install "github.com/versity/versitygw/cmd/versitygw@$version"
  mkdir -p "$(dirname "$bin")"
  mv "$tmp/versitygw" "$bin"
  rmdir "$tmp"
  log "versitygw: ready at $bin"
}

main() {
  install_duckdb
  install_versitygw
}

main "$@"
