# natsd — the two commands a newcomer needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/natsd
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -X main.commit=$(COMMIT)
ARGS    ?=

.PHONY: all build run test vet fmt-check docs bench soak fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/natsd

# Builds natsd and runs it on 0.0.0.0:4222, logging to the terminal.
# Extra flags: make run ARGS="-m 8222 -DV"
run: build
	./$(BIN) $(ARGS)

# Everything CI runs.
test: fmt-check vet
	$(GO) test -race -timeout 20m ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Regenerates docs/ (diagrams, tables, lifecycle.md) from the declared state
# machines; `make test` fails when docs/ is stale.
docs:
	$(GO) run ./fsmgen -out docs

# Measures natsd beside nats-server v2.15.2 on this machine (installs the
# pinned nats-server and nats CLI into .tools/bin when missing) and writes
# docs/performance.md and docs/performance.tsv. About 15 minutes.
# Extra flags: make bench BENCH_ARGS="-rounds 1 -only throughput,fanout"
# (-quick: a smoke run; -profile: CPU profiles of natsd under the load rows).
BENCH_ARGS ?=
bench: build
	$(GO) build -o bin/natsd-bench ./bench
	./bin/natsd-bench $(BENCH_ARGS)

# The reliability suites at full size (20,000 connections, 50 publishers and
# 50 subscribers, 20 signal storms, PING floods beside nats-server; see
# docs/reliability.md), run without
# -race against a natsd built without -race. A few minutes. Prints the
# table of figures and writes it into docs/reliability.md.
SOAK_REPORT ?= bin/soak.jsonl
SOAK_RUN    ?= TestScaleShutdown|TestShutdownUnderPublishLoad|TestStuckClients|TestVanishingClients|TestSignalStorm|TestFloodingClients
soak:
	@mkdir -p $(dir $(SOAK_REPORT)) && rm -f $(SOAK_REPORT)
	NATSD_SOAK=1 NATSD_SOAK_REPORT=$(abspath $(SOAK_REPORT)) $(GO) test -count=1 -timeout 30m -run '$(SOAK_RUN)' ./lifecycle ./cmd/natsd
	$(GO) run ./internal/soak/report -in $(SOAK_REPORT) -doc docs/reliability.md

# Runs each fuzz target for FUZZTIME (`make test` runs their corpora in
# testdata/fuzz). New failing inputs land in testdata/fuzz: commit them.
FUZZTIME ?= 30s
FUZZ     := ./conn/parser:FuzzParse ./conn:FuzzConnect ./conn/subject:FuzzMatch ./auth:FuzzPermissionMatch
fuzz:
	@for t in $(FUZZ); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		echo "$(GO) test -run '^$$' -fuzz '^$$name$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 10s $$pkg || exit 1; \
	done

clean:
	rm -rf bin
