#!/usr/bin/env bash
# The GPU engine's checks that need no GPU (`make gpu-check`, run by CI):
#   1. the committed PTX is what the kernel sources produce;
#   2. registers and spills per kernel for sm_90 (ptxas -v): no kernel may spill;
#   3. the cuda-tagged Go code builds and vets (linked against the libcuda stub), and
#      so does the GPU test binary;
#   4. the kernels' __host__ __device__ code, compiled by the host's C++ compiler,
#      agrees with the Go engine on the same inputs (package kernels' tests).
# Installs the CUDA 11.8 toolkit first when nvcc is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}

if ! command -v nvcc >/dev/null 2>&1 || [ ! -f /usr/include/cuda.h ]; then
	bash scripts/install-cuda-toolkit.sh
fi
# gorgonia.org/cu links -lcuda; on a machine without the driver the toolkit's stub
# stands in (it is only for linking: the binary then needs a real driver to run).
stubs=$(dirname "$(find /usr/lib /usr/local/cuda* -name libcuda.so -path '*stubs*' 2>/dev/null | head -n 1)")
export CGO_LDFLAGS="${CGO_LDFLAGS:-} -L${stubs}"

echo "== 1. PTX up to date ($(nvcc --version | tail -n 1))"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/gen-ptx.sh "$tmp"
stale=0
for f in "$tmp"/*.ptx; do
	name=$(basename "$f")
	if ! cmp -s "$f" "kernels/$name"; then
		echo "kernels/$name differs from what kernels/${name%.ptx}.cu produces: run \`make ptx\` and commit it" >&2
		made=$(grep -m1 'Cuda compilation tools' "$f" || true)
		committed=$(grep -m1 'Cuda compilation tools' "kernels/$name" || true)
		if [ "$made" != "$committed" ]; then
			echo "  (the committed PTX was made by${committed#//}, this machine's nvcc is${made#//}: the difference may be the compiler's alone)" >&2
		fi
		stale=1
	fi
done
for f in kernels/*.ptx; do
	[ -f "$tmp/$(basename "$f")" ] || { echo "$f has no source: remove it" >&2; stale=1; }
done
if ! cmp -s "$tmp/kernels_sha.h" cuda/kernels_sha.h; then
	echo "cuda/kernels_sha.h is not the kernels' current SHA-256: run \`make ptx\` and commit it" >&2
	stale=1
fi
[ "$stale" = 0 ] || exit 1
echo "ok: $(ls kernels/*.ptx | wc -l) modules"

echo "== 2. registers and spills (ptxas -v, sm_90)"
spills=0
for f in kernels/*.ptx; do
	ptxas -v -arch=sm_90 "$f" -o /dev/null 2>"$tmp/ptxas.log"
	awk -v mod="$(basename "$f" .ptx)" '
		/Compiling entry function/ { match($0, /'"'"'[^'"'"']+'"'"'/); k = substr($0, RSTART + 1, RLENGTH - 2) }
		/spill stores/ { split($0, a, ","); st = a[2]; ld = a[3]; gsub(/^ +| bytes spill (stores|loads)/, "", st); gsub(/^ +| bytes spill (stores|loads)/, "", ld) }
		/Used [0-9]+ registers/ { match($0, /Used [0-9]+/); r = substr($0, RSTART + 5, RLENGTH - 5)
			printf "%-16s %-24s %4s registers  spill stores %s  loads %s\n", mod, k, r, st, ld
			if (st + 0 > 0 || ld + 0 > 0) bad = 1 }
		END { exit bad }' "$tmp/ptxas.log" || spills=1
done
if [ "$spills" != 0 ]; then
	echo "a kernel spills registers at the default sizes: fix it before committing" >&2
	exit 1
fi

echo "== 3. cuda-tagged build, vet and GPU test binary"
$GO build -tags cuda ./...
$GO vet -tags cuda ./...
$GO test -c -tags cuda -o "$tmp/cuda.test" ./cuda
echo "ok"

echo "== 4. kernels' C++ code vs the Go engine (g++)"
GOSDE_REQUIRE_CXX=1 $GO test -count=1 -v -run 'MatchesGo' ./kernels | grep -E '^(---|ok|FAIL|PASS)|rel\. error' | sed 's/^ *//'
