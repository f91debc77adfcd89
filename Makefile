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

clean:
	rm -rf bin
