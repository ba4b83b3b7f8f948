# Run `make` (or `make help`) to list the targets.

GO            ?= go
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Fuzz targets as package:FuzzName pairs; `go test -fuzz` takes one target per run.
FUZZ_TARGETS  ?= ./webhooks:FuzzParseSignatureHeader ./webhooks:FuzzDecodeEnvelope ./config:FuzzLoad \
                 ./pkg/membership:FuzzNormalizeEmail ./pkg/server:FuzzCursor
# An iteration count, not a duration: with a duration, Go 1.26 fuzzing can fail
# spuriously with "context deadline exceeded" at the deadline (golang/go#75804).
FUZZTIME      ?= 200000x

.DEFAULT_GOAL := help

.PHONY: help run build test lint fuzz bench bench-go clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(firstword $(MAKEFILE_LIST)) | sed 's/:.*## /\t/'

run: ## serve with the dev config (SQLite under var/)
	$(GO) run ./cmd/seatsync serve --config config/seatsync.dev.yaml

build: ## static binary in bin/seatsync
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/seatsync ./cmd/seatsync

test: ## all tests, race detector on (needs Postgres at TEST_DATABASE_URL)
	$(GO) test -race -count=1 -timeout 20m ./...

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

bench-go: ## 10 runs into bench.txt, ready for benchstat
	$(GO) test -run='^$$' -bench=. -count=10 ./... | tee bench.txt

clean: ## remove build output, bench and coverage files
	rm -rf bin/ bench.txt cover.out
