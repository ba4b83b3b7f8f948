# Run `make` (or `make help`) to list the targets.

GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Fuzz targets as package:FuzzName pairs; `go test -fuzz` takes one target per run.
FUZZ_TARGETS  ?= ./webhooks:FuzzParseSignatureHeader ./webhooks:FuzzDecodeEnvelope ./config:FuzzLoad \
                 ./pkg/membership:FuzzNormalizeEmail ./pkg/server:FuzzCursor
# An iteration count, not a duration: with a duration, Go 1.26 fuzzing can fail
# spuriously with "context deadline exceeded" at the deadline (golang/go#75804).
FUZZTIME      ?= 200000x
# The scale benchmarks of docs/PERFORMANCE.md load up to a million rows: bench-scale runs
# them, bench-go leaves them out.
SCALE_BENCH   := ^Benchmark(BaselinePing|Downgrade|PlanStatus|MembersFirstPage|Reconcile|ReconcileListing)$$
BENCHSTAT     := golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da

.DEFAULT_GOAL := help

.PHONY: help run build test lint fuzz bench bench-go bench-scale clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/'

run: ## serve with the dev config (SQLite under var/)
	$(GO) run ./cmd/seatsync serve --config config/seatsync.dev.yaml

build: ## static binary in bin/seatsync
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/seatsync ./cmd/seatsync

test: ## all tests, race detector on (needs Postgres at TEST_DATABASE_URL)
	$(GO) test -race -count=1 -timeout 45m ./...

lint: ## gofmt, go vet, staticcheck
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting (run gofmt -w):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

fuzz: ## FUZZTIME (200000x) on each FUZZ_TARGETS entry, one -fuzz target per run
	@set -e; for target in $(FUZZ_TARGETS); do \
		pkg="$${target%%:*}"; name="$${target#*:}"; \
		echo "== $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run='^$$' -fuzz="^$${name}\$$" -fuzztime=$(FUZZTIME) "$$pkg"; \
	done

bench: ## load test on Postgres (bench/run.sh: USERS, SENDERS, TEST_DATABASE_URL); Go benchmarks: bench-go
	GO=$(GO) bash bench/run.sh

bench-go: ## 10 runs into bench.txt, ready for benchstat (scale benchmarks: bench-scale)
	$(GO) test -run='^$$' -bench=. -skip='$(SCALE_BENCH)' -count=10 ./... | tee bench.txt

bench-scale: ## scale benchmarks on Postgres (a few minutes) into bench-scale.txt, then benchstat; see docs/PERFORMANCE.md
	$(GO) test -run='^$$' -bench='$(SCALE_BENCH)' -benchtime=3x -count=5 -timeout=3h ./store/ | tee bench-scale.txt
	$(GO) test -run='^$$' -bench='$(SCALE_BENCH)' -benchtime=1x -count=3 -timeout=5h ./pkg/reconcile/ | tee -a bench-scale.txt
	$(GO) run $(BENCHSTAT) bench-scale.txt

clean: ## remove build output, bench and coverage files
	rm -rf bin/ bench.txt bench-scale.txt cover.out
