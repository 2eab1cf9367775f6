#!/usr/bin/env bash
# One prepared run of every GPU check, for a GPU machine that has no Go (the device
# tool's machines): build here with `make gpu-bundle`, carry bin/, run this there.
# Agreement with the CPU engine comes first, then a memory check of the kernels, then
# the benchmarks; each part has its own time limit so that a hang in one still leaves
# the others' results.
#
#   scripts/gpu-session.sh [BIN_DIR] [OUT_DIR]     (defaults: bin, $OUT or /tmp/gosde-gpu)
#
# Everything lands in OUT_DIR, at most eight files (the device tool brings back no
# more): nvidia-smi, the device listing, the agreement tests' log, compute-sanitizer's
# log, the Go benchmarks' log and `gosde bench` JSON for the engine and the SDE-GAN,
# and extra.tar.gz with what these switches add: GOSDE_NCU=1 the kernels' times in
# SDE-GAN steps (Nsight Compute), GOSDE_TRAIN_STEPS=N a training run of the default
# SDE-GAN on the GPU, GOSDE_DIFFRAX=1 diffrax's time for the same generator solve
# (scripts/diffrax_baseline.py).
set -u
bin=${1:-bin}
out=${2:-${OUT:-/tmp/gosde-gpu}}
mkdir -p "$out"
status=0
run() { # name limit command...
	local name=$1 limit=$2
	shift 2
	echo "== $name"
	local t0=$SECONDS
	timeout "$limit" "$@" >"$out/$name" 2>&1
	local rc=$?
	echo "rc=$rc seconds=$((SECONDS - t0))" >>"$out/$name"
	tail -n 5 "$out/$name"
	[ "$rc" = 0 ] || status=1
}
run nvidia-smi.txt 20 nvidia-smi
run devices.json 20 "$bin/gosde-gpu" devices --json
run agreement.txt "${GOSDE_AGREE_LIMIT:-100}" "$bin/cuda.test" -test.v -test.count 1 -test.run .
# Out-of-bounds accesses (memcheck) and shared-memory races between a path's lanes
# or a signature-kernel pair's threads (racecheck), at small batches: both tools are
# slow.
sanitizer=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
if [ -n "$sanitizer" ] && [ -z "${GOSDE_SKIP_SANITIZER:-}" ]; then
	run sanitizer.txt "${GOSDE_SANITIZER_LIMIT:-120}" bash -c "
		'$sanitizer' --tool memcheck --leak-check full '$bin/cuda.test' -test.count 1 \
			-test.run 'TestMLPKernelsAgreeWithGo|TestOptimiserKernelsMatchGo|TestAgreesWithCPUEngine/.*/B7\$|TestLanesAgree/lanes(2|16)/reverse-false/'
		'$sanitizer' --tool memcheck --leak-check full '$bin/cuda.test' -test.count 1 -test.run 'TestSigScorerAgreesWithCPU'
		echo '== racecheck'
		'$sanitizer' --tool racecheck --racecheck-report hazard '$bin/cuda.test' -test.count 1 \
			-test.run 'TestLanesAgree/lanes(4|32)/reverse-false/chunk3/'
		'$sanitizer' --tool racecheck --racecheck-report hazard '$bin/cuda.test' -test.count 1 \
			-test.run 'TestSigScorerAgreesWithCPU/rbf-r0/m5-n4/L22-d3/realwithin'"
fi
run go-bench.txt "${GOSDE_BENCH_LIMIT:-150}" bash -c "
	'$bin/cuda.test' -test.run '^\$' -test.bench '${GOSDE_SOLVE_BENCH:-GeneratorForwardAdjoint}' -test.benchtime ${GOSDE_SOLVE_BENCHTIME:-5x}
	'$bin/cuda.test' -test.run '^\$' -test.bench SolveParts -test.benchtime 10x
	'$bin/cuda.test' -test.run '^\$' -test.bench GANStep -test.benchtime 20x
	'$bin/cuda.test' -test.run '^\$' -test.bench SigScore -test.benchtime 10x"
# What does not fit the eight files comes back as one archive, extra.tar.gz: a
# training run, the per-kernel times of SDE-GAN steps (ncu), and diffrax's time for
# the same generator solve.
extra=$(mktemp -d)
pack() { tar czf "$out/extra.tar.gz" -C "$extra" .; } # after each part: a time limit keeps what is done
if [ -n "${GOSDE_TRAIN_STEPS:-}" ]; then
	echo "== train ($GOSDE_TRAIN_STEPS steps)"
	t0=$SECONDS
	timeout "${GOSDE_TRAIN_LIMIT:-240}" "$bin/gosde-gpu" train --device gpu --steps "$GOSDE_TRAIN_STEPS" \
		--out "$extra/train" >"$extra/train.log" 2>&1
	echo "rc=$? seconds=$((SECONDS - t0))" >>"$extra/train.log"
	tail -n 8 "$extra/train.log"
	pack
fi
[ -n "${GOSDE_SKIP_BENCH_JSON:-}" ] || run bench-engine.json "${GOSDE_JSON_LIMIT:-40}" "$bin/gosde-gpu" bench engine --json
[ -n "${GOSDE_SKIP_BENCH_JSON:-}" ] || run bench-gan.json "${GOSDE_JSON_LIMIT:-40}" "$bin/gosde-gpu" bench gan --json
ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu 2>/dev/null)
if [ -n "${GOSDE_NCU:-}" ] && [ -n "$ncu" ]; then
	echo "== ncu (kernel times of SDE-GAN steps)"
	timeout "${GOSDE_NCU_LIMIT:-60}" "$ncu" --clock-control none --metrics gpu__time_duration.sum \
		--kernel-name regex:gosde_ --launch-count 80 --csv \
		"$bin/cuda.test" -test.run '^$' -test.bench GANStep -test.benchtime 1x >"$extra/ncu.csv" 2>&1
	echo "rc=$?" >>"$extra/ncu.csv"
	tail -n 2 "$extra/ncu.csv"
	pack
fi
if [ -n "${GOSDE_DIFFRAX:-}" ]; then
	echo "== diffrax baseline"
	for w in ${GOSDE_DIFFRAX_WIDTHS:-16}; do
		PYTHONUNBUFFERED=1 timeout "${GOSDE_DIFFRAX_LIMIT:-90}" python3 "$(dirname "$0")/diffrax_baseline.py" --batch 1024 --width $w >>"$extra/diffrax.jsonl" 2>>"$extra/diffrax.err"
		echo "rc=$?" >>"$extra/diffrax.err"
	done
	cat "$extra/diffrax.jsonl"
	tail -n 3 "$extra/diffrax.err"
	pack
fi
grep -E '^(--- FAIL|FAIL|ok|PASS)' "$out/agreement.txt" | head -n 20
grep -E 'ms/solve|ms/step|ms/score|GFLOP' "$out/go-bench.txt" | sed -E 's/ +/ /g; s/\t/ /g' 
exit "$status"
