# The README's two commands: `make demo` and `make test`.
GO        ?= go
BIN       := bin/cognito-export
LDFLAGS   := -s -w
GOFLAGS_BUILD := -trimpath -buildvcs=auto -ldflags "$(LDFLAGS)"

.PHONY: build test test-short fuzz bench bench-scale demo lint docker clean

build:
	CGO_ENABLED=0 $(GO) build $(GOFLAGS_BUILD) -o $(BIN) ./cmd/cognito-export

# Every test, with the real peers the tests need installed first.
test:
	./scripts/test.sh

# Every native fuzz target for FUZZTIME each, one worker, one after the
# other; prints what each ran and found (scripts/fuzz.sh). `make test`
# runs their seeds.
FUZZTIME ?= 30s
fuzz:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# The fast layer: no external peers.
test-short:
	$(GO) test -short ./...

# End-to-end exports by the real binary, quota efficiency and the Go
# micro-benchmarks; prints the table and rewrites it in BENCHMARKS.md.
bench: build
	$(GO) run ./cmd/bench -bin $(BIN) -write BENCHMARKS.md

# Ten million users (USERS=N for fewer): both strategies unpaced against
# the emulator in its own process, a diff and a report, per phase
# (scripts/bench-scale.sh). Not part of make test.
USERS ?= 10000000
bench-scale: build
	USERS=$(USERS) ./scripts/bench-scale.sh

# Two days of the demo pool side by side, and the review loop between
# them: day 1's report is decided by the demo's stand-in reviewer (a few
# revokes, the rest kept, one group left undecided); day 2 is the same pool
# a day later (2% of users changed, half the revocations carried out), and
# its report compares it with day 1 and checks day 1's decisions
# (REVOKE_NOT_APPLIED, PRIVILEGED_NOT_REVIEWED). Each run starts over: an
# older day 2 left beside a new day 1 would be its "previous" export.
demo: build
	rm -rf cognito-export-demo
	$(BIN) demo --output cognito-export-demo/day1 --decide
	$(BIN) demo --output cognito-export-demo/day2 --changed-share 0.02 --diff-against latest --report-decisions cognito-export-demo/day1/decisions.csv --carry-out cognito-export-demo/day1/decisions.csv

lint:
	test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...
	$(GO) test -count=1 ./internal/archtest

# The image's build stage is checked without Docker by
# TestDockerfileBuildsLikeMake (same go build line, same binary).
docker:
	@docker info >/dev/null 2>&1 || { echo "make docker: no Docker engine reachable (docker info failed); start one or build elsewhere" >&2; exit 1; }
	docker build -t cognito-export .

clean:
	rm -rf bin cognito-export-demo
