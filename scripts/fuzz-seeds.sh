#!/usr/bin/env bash
# Writes the real exports the fuzz targets start from into
# internal/fuzzcheck/testdata/exports/: the demo pool (its hostile users:
# formula prefixes, markup, bidi overrides, 4-byte UTF-8, quoted newlines)
# exported by the binary in each format and compression, and a diff of
# two days of it. Run it again when what an export writes changes; the
# fuzz targets read these as seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
make build >/dev/null
out=internal/fuzzcheck/testdata/exports
rm -rf "$out"
demo() {
	local dir=$1
	shift
	./bin/cognito-export demo --users 50 --groups 6 --seed 4 --part-rows 120 --report=false \
		--output "$dir" "$@" >/dev/null 2>&1
	# No reader reads summary.json back.
	rm -f "$dir/summary.json"
}
demo "$out/parquet-snappy" --format parquet --compression snappy
demo "$out/parquet-zstd" --format parquet --compression zstd
demo "$out/parquet-gzip" --format parquet --compression gzip
demo "$out/parquet-none" --format parquet --compression none
demo "$out/csv" --format csv
demo "$out/csv-raw" --format csv --csv-raw
# A diff's output (the changes table), which report reads back: the pool a
# day later, 10% of its users changed.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
demo "$tmp/day1" --format csv
demo "$tmp/day2" --format csv --changed-share 0.1 --diff-against latest
mv "$tmp/day2/diff" "$out/diff-csv"
rm -f "$out/diff-csv/summary.json" "$out/diff-csv/diff-summary.json" # not read back
du -sh "$out"
