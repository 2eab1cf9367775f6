#!/usr/bin/env bash
# Compiles every kernels/*.cu to PTX with nvcc. `make ptx` writes them beside the
# sources (committed and embedded by package kernels, so that building the GPU engine
# needs no nvcc); with an output folder as $1 it writes there instead, which is how
# `make gpu-check` compares the committed PTX with what the sources produce.
#
# The virtual architecture is compute_80: the driver JIT-compiles PTX for the GPU it
# runs on (sm_80 and newer: A100, H100, H200), so one PTX serves them all.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-kernels}
mkdir -p "$out"
: "${NVCC:=nvcc}"
if ! command -v "$NVCC" >/dev/null 2>&1; then
	echo "gen-ptx: nvcc not found; run scripts/install-cuda-toolkit.sh" >&2
	exit 1
fi
# The emulator's copy of the kernels' hash (see scripts/kernels-sha.sh).
hdr="$out/kernels_sha.h"
[ "$out" = kernels ] && hdr=cuda/kernels_sha.h
bash scripts/kernels-sha.sh "$hdr"

for src in kernels/*.cu; do
	name=$(basename "$src" .cu)
	flags=()
	# The optimiser updates must round exactly as Go's optim package does (bit-identical
	# training on either engine), so no fused multiply-adds there; the solver kernels
	# keep them (a float32 tolerance, and twice the throughput).
	[ "$name" = optim ] && flags+=(-fmad=false)
	"$NVCC" -ptx -arch=compute_80 -std=c++17 -O3 "${flags[@]}" -Ikernels -o "$out/$name.ptx" "$src"
done
