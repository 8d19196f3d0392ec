#!/usr/bin/env bash
# make fuzz: runs every native fuzz target of the module, one after the
# other, for FUZZTIME each (30s by default) with FUZZ_PARALLEL workers (1 by
# default), and prints a table of what each did. go test -fuzz takes one
# target of one package a run, so the targets are found here: every
# `func FuzzX(` in a _test.go file. A crasher is written by go test under
# the package's testdata/fuzz/FuzzX/; fix it and commit the file, and the
# seeds of `make test` run it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-30s}
parallel=${FUZZ_PARALLEL:-1}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

mapfile -t targets < <(git ls-files '*_test.go' | xargs grep -Ho '^func Fuzz[A-Za-z0-9_]*(' | sed 's/:func /:/; s/($//' | sort)
rows=()
failed=0
for t in "${targets[@]}"; do
	file=${t%%:*} name=${t##*:}
	pkg=./$(dirname "$file")
	echo "== $name in $pkg for $fuzztime" >&2
	status=ok
	# Minimising an input costs as many runs as it allows: bounded, so that
	# the time goes to fuzzing.
	if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -fuzzminimizetime 200x \
		-parallel "$parallel" "$pkg" >"$logs/$name" 2>&1; then
		status="FAILED: $(grep -o 'testdata/fuzz/[^ ]*' "$logs/$name" | head -1)"
		failed=1
		cat "$logs/$name" >&2
	fi
	last=$(grep -E '^fuzz: elapsed: .*execs: ' "$logs/$name" | tail -1 || true)
	elapsed=$(sed -E 's/^fuzz: elapsed: ([^,]*),.*/\1/' <<<"$last")
	execs=$(sed -E 's/.*execs: ([0-9]+).*/\1/' <<<"$last")
	found=$(sed -E 's/.*new interesting: ([0-9]+).*/\1/' <<<"$last")
	rows+=("$(printf '| %s | %s | %s | %s | %s | %s |' "$name" "$pkg" "${elapsed:-?}" "${execs:-?}" "${found:-?}" "$status")")
done
echo "| target | package | ran | execs | new interesting | result |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
exit $failed
