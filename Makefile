# gosde — make targets. Everything but the GPU targets needs only Go (and gcc for the
# reference yardstick and the kernels' CPU harness).
GO      ?= go
PKGS    := ./...
BIN     := bin/gosde

.PHONY: all build build-gpu test test-short race bench bench-go lint fmt vet fuzz peer-check clean ptx kernels-sha gpu-check gpu-test-binary gpu-bundle

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
	$(GO) test ./cmd/gosde/ -run '^$$' -fuzz FuzzSampleEval -fuzztime $(FUZZTIME)
	$(GO) test ./dataset/ -run '^$$' -fuzz FuzzParseLog -fuzztime $(FUZZTIME)
	$(GO) test ./training/ -run '^$$' -fuzz FuzzLoadMetadata -fuzztime $(FUZZTIME)

# gosde held to torchsde, torchcde and torchsde's SDE-GAN example on identical inputs
# (README, "Cross-checked against torchsde"). Needs ../shared/peers (or PEERS=DIR) and
# installs Debian's python3-torch when missing; skips, saying why, where it cannot.
peer-check:
	bash scripts/peer-check.sh

# --- GPU engine (package cuda, build tag cuda) ---------------------------------------
# Linking gorgonia.org/cu needs libcuda: on a machine without the NVIDIA driver, the
# CUDA toolkit's stub stands in (scripts/install-cuda-toolkit.sh installs Debian's CUDA
# 11.8 toolkit; its headers are the ones gorgonia.org/cu compiles against).
CUDA_STUBS ?= $(dir $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/stubs/libcuda.so /usr/local/cuda/lib64/stubs/libcuda.so)))
GPU_ENV := CGO_LDFLAGS="$(CGO_LDFLAGS) -L$(CUDA_STUBS)"

# Regenerate the committed PTX from kernels/*.cu (needs nvcc).
ptx:
	bash scripts/gen-ptx.sh

# Only the emulator's hash of the kernel sources (cuda/kernels_sha.h), without nvcc: after
# editing kernels/*.cu or *.cuh on a machine without the CUDA toolkit (the PTX then waits
# for `make ptx` where there is one; `make gpu-check` says so).
kernels-sha:
	bash scripts/kernels-sha.sh

# The GPU checks that need no GPU: PTX up to date, no register spills, the cuda-tagged
# code builds and vets, and the kernels' C++ agrees with the Go engine. Run by CI.
gpu-check:
	bash scripts/gpu-check.sh

# gosde with the GPU engine: runs only where an NVIDIA driver is installed.
build-gpu:
	$(GPU_ENV) $(GO) build -tags cuda -o bin/gosde-gpu ./cmd/gosde

# One test binary, runnable on a GPU machine without Go: agreement with the CPU engine,
# then benchmarks. Run it there as
#   ./bin/cuda.test -test.v -test.run Agrees -test.bench . -test.benchtime 20x
gpu-test-binary:
	$(GPU_ENV) $(GO) test -c -tags cuda -o bin/cuda.test ./cuda

# Both GPU binaries, for carrying to a GPU machine without Go and running
# scripts/gpu-session.sh there (agreement first, then benchmarks).
gpu-bundle: build-gpu gpu-test-binary

clean:
	rm -rf bin
