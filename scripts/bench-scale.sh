#!/usr/bin/env bash
# make bench-scale: export a USERS-user emulated pool (80 groups, 1.73
# memberships a user) by-group and per-user, unpaced, with the emulator in
# its own process; then export the same pool a day later (2% changed), diff
# the two and report on the second. Prints, per phase: calls/s, users/s,
# peak RSS and the collector's share of the process's CPU. Export phases
# come from each run's summary.json (runtime/metrics); diff and report are
# whole processes (GODEBUG=gctrace=1 summed, /usr/bin/time for CPU and RSS).
# Not part of make test: at 10M users it takes the better part of an hour
# on two cores.
set -euo pipefail
USERS=${USERS:-10000000}
BIN=${BIN:-bin/cognito-export}
WORK=${WORK:-$(mktemp -d /tmp/bench-scale.XXXXXX)}
mkdir -p "$WORK"
PORT=${PORT:-19229}
# A 1 GiB container's limit as memlimit chooses it, unless the caller runs
# inside one (then unset GOMEMLIMIT and let the binary read its cgroup).
export GOMEMLIMIT=${GOMEMLIMIT-819MiB}
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

emulate() { # $1: changed share
	env -u GOMEMLIMIT "$BIN" emulate --users "$USERS" --groups 80 --memberships 1.73 --addr "127.0.0.1:$PORT" --changed-share "$1" >"$WORK/emulate.log" 2>&1 &
	EMU=$!
	until grep -q "serving pool" "$WORK/emulate.log"; do sleep 1; kill -0 $EMU; done
}

export_pool() { # $1: strategy, $2: output
	/usr/bin/time -f "%e %U %S %M" -o "$2.time" "$BIN" export --endpoint-url "http://127.0.0.1:$PORT" \
		--user-pool-id us-east-1_DemoPool1 --output "$2" --strategy "$1" --rate UserList=0 --rate UserResourceRead=0 \
		--rate UserPoolResourceRead=0 --rate UserPoolRead=0 --log-format json --progress-interval 60s 2>"$2.log" >/dev/null
}

# A whole process's figures: wall s, user+sys CPU s, peak RSS, and the
# collector's CPU from gctrace ("a+b/c/d+e ms cpu": all but the idle mark).
process() { # $1: name, $2: time file, $3: gctrace log, $4: users
	python3 - "$@" <<'PY'
import re, sys
name, timef, logf, users = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
wall, usr, sys_, rss = open(timef).read().split()[-4:]
cpu = float(usr) + float(sys_)
gc = 0.0
for m in re.finditer(r"ms clock, ([\d.]+)\+([\d.]+)/([\d.]+)/([\d.]+)\+([\d.]+) ms cpu", open(logf).read()):
    gc += float(m[1]) + float(m[2]) + float(m[3]) + float(m[5])
print(f"| {name} | whole run | {float(wall):.0f} | - | {users/float(wall):,.0f} | {int(rss)/1024:.0f} MB | {100*gc/1000/cpu:.1f}% |")
PY
}

phases() { # $1: strategy, $2: output
	python3 - "$1" "$2" <<'PY'
import json, sys
s = json.load(open(sys.argv[2] + "/summary.json"))
for p in s["phases"]:
    print(f"| export {sys.argv[1]} | {p['phase']} | {p['seconds']:.0f} | {p['calls_per_second']:,.0f} | {p['users_per_second']:,.0f} | {p['peak_rss_bytes']/2**20:.0f} MB | {100*p['gc_cpu_share']:.1f}% |")
PY
}

echo "| run | phase | seconds | calls/s | users/s | peak RSS | GC share of CPU |"
echo "|---|---|---:|---:|---:|---:|---:|"
emulate 0
for strategy in by-group per-user; do
	export_pool "$strategy" "$WORK/$strategy"
	phases "$strategy" "$WORK/$strategy"
done
kill $EMU; wait $EMU 2>/dev/null || true
emulate 0.02
export_pool by-group "$WORK/day2"
kill $EMU; wait $EMU 2>/dev/null || true
GODEBUG=gctrace=1 /usr/bin/time -f "%e %U %S %M" -o "$WORK/diff.time" "$BIN" diff "$WORK/by-group" "$WORK/day2" --output "$WORK/diff" >/dev/null 2>"$WORK/diff.log"
process diff "$WORK/diff.time" "$WORK/diff.log" "$USERS"
GODEBUG=gctrace=1 /usr/bin/time -f "%e %U %S %M" -o "$WORK/report.time" "$BIN" report "$WORK/day2" --output "$WORK/report.html" >/dev/null 2>"$WORK/report.log"
process report "$WORK/report.time" "$WORK/report.log" "$USERS"
echo "users: $USERS; outputs and logs in $WORK"
