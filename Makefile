# gosde — make targets. Everything here needs only Go (and gcc for the reference yardstick).
GO      ?= go
PKGS    := ./...
BIN     := bin/gosde

.PHONY: all build test test-short race bench bench-go lint fmt vet fuzz clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/gosde

# The test suite: every package's unit, statistical and gradient tests, plus a short
# run of each fuzz target's seed corpus (go test runs seed corpora as tests).
test:
	$(GO) test -count=1 $(PKGS)

race:
	$(GO) test -count=1 -race -short $(PKGS)

# The paper's claims, reproduced as ratios measured in the same run.
bench: build
	$(BIN) bench all

# The testing.B benchmarks, for benchstat.
bench-go:
	$(GO) test -run '^$$' -bench . -benchtime 5x $(PKGS)

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

# Bounded fuzzing of every fuzz target (FUZZTIME each).
FUZZTIME ?= 10s
fuzz:
	$(GO) test ./brownian/ -run '^$$' -fuzz FuzzIntervalQueries -fuzztime $(FUZZTIME)
	$(GO) test ./checkpoint/ -run '^$$' -fuzz FuzzDecode -fuzztime $(FUZZTIME)
	$(GO) test ./dataset/ -run '^$$' -fuzz FuzzReadCSV -fuzztime $(FUZZTIME)
	$(GO) test ./cmd/gosde/ -run '^$$' -fuzz FuzzTrainFlags -fuzztime $(FUZZTIME)

clean:
	rm -rf bin
