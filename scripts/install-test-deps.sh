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
#   install_cognito_local  cognito-local, a Cognito emulator written by
#                   others (internal/cognitolocal): npm ci of the pinned
#                   package.
#   install_boto    boto3/botocore and the AWS CLI for the conformance tests
#                   (internal/boto): the Debian packages python3-boto3 and
#                   awscli, used as /usr/bin/python3 and /usr/bin/aws.
#   install_ssh_keygen  OpenSSH's ssh-keygen, which checks our signatures as an
#                   auditor would (internal/sshkeygen): Debian's
#                   openssh-client package.
#   install_chromium  headless Chromium for the report's browser tests
#                   (internal/chromium): Debian's chromium package, used as
#                   /usr/bin/chromium.
#   install_prometheus  Prometheus' Pushgateway and server for the metrics
#                   tests (internal/pushgateway, internal/prometheus): the
#                   Debian packages prometheus-pushgateway and prometheus,
#                   used as /usr/bin/prometheus-pushgateway and
#                   /usr/bin/prometheus (their services are not needed: the
#                   tests start their own).
#
# Tests that need a missing peer skip; set COGNITO_EXPORT_REQUIRE_PEERS=1 to
# make them fail instead (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "install-test-deps: $*"; }

# npm_ci DIR: npm ci in DIR unless node_modules was installed from this
# exact lockfile.
npm_ci() {
  local dir=$1
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "node and npm are required for $dir: install Node.js 18 or later" >&2
    return 1
  fi
  local want stamp="$dir/node_modules/.cognito-export-lock.sha256"
  want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    log "$dir/node_modules is current"
  else
    log "npm ci in $dir"
    (cd "$dir" && npm ci --no-audit --no-fund)
    echo "$want" >"$stamp"
  fi
}

install_duckdb() {
  local dir=internal/duckdb
  npm_ci "$dir"
  log "duckdb: checking that a query runs"
  (cd "$dir" && node query.mjs "SELECT 1 AS ok" >/dev/null)
  log "duckdb: ready"
}

install_cognito_local() {
  npm_ci internal/cognitolocal
  log "cognito-local: ready"
}

install_boto() {
  if /usr/bin/python3 -c 'import boto3' 2>/dev/null && /usr/bin/aws --version >/dev/null 2>&1; then
    log "boto3 and the AWS CLI: installed"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "python3-boto3 and awscli are missing and installing them needs root: apt-get install python3-boto3 awscli" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  log "apt-get install python3-boto3 awscli"
  # The lock timeout lets a concurrent apt run (unattended upgrades) finish.
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends python3-boto3 awscli
  /usr/bin/python3 -c 'import boto3' && /usr/bin/aws --version
  log "boto3 and the AWS CLI: ready"
}

install_chromium() {
  if /usr/bin/chromium --version >/dev/null 2>&1; then
    log "chromium: installed"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "chromium is missing and installing it needs root: apt-get install chromium" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  log "apt-get install chromium"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends chromium
  /usr/bin/chromium --version
  log "chromium: ready"
}

# apt_install PACKAGE...: apt-get install as root, or through sudo.
apt_install() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    if ! command -v sudo >/dev/null; then
      log "$* missing and installing needs root: apt-get install $*" >&2
      return 1
    fi
    sudo=(sudo)
  fi
  log "apt-get install $*"
  "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "$@"
}

install_prometheus() {
  if [ -x /usr/bin/prometheus-pushgateway ] && [ -x /usr/bin/prometheus ]; then
    log "prometheus and prometheus-pushgateway: installed"
    return 0
  fi
  apt_install prometheus prometheus-pushgateway
  /usr/bin/prometheus-pushgateway --version 2>&1 | head -1
  /usr/bin/prometheus --version 2>&1 | head -1
  log "prometheus and prometheus-pushgateway: ready"
}

install_ssh_keygen() {
  if command -v ssh-keygen >/dev/null 2>&1; then
    log "ssh-keygen: installed"
  else
    apt_install openssh-client
  fi
  # -Y sign and verify came with OpenSSH 8.1.
  local usage
  usage=$(ssh-keygen -Y sign 2>&1 || true)
  grep -q namespace <<<"$usage" || { log "ssh-keygen has no -Y sign: OpenSSH 8.1 or later is needed" >&2; return 1; }
  log "ssh-keygen: ready"
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
  install_cognito_local
  install_boto
  install_chromium
  install_prometheus
  install_ssh_keygen
}

main "$@"
