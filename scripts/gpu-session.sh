#!/usr/bin/env bash
# One prepared run of every GPU check, for a GPU machine that has no Go (the device
# tool's machines): build here with `make gpu-bundle`, carry bin/, run this there.
# Agreement with the CPU engine comes first, then the benchmarks; each part has its
# own time limit so that a hang in one still leaves the others' results.
#
#   scripts/gpu-session.sh [BIN_DIR] [OUT_DIR]     (defaults: bin, $OUT or /tmp/gosde-gpu)
#
# Everything lands in OUT_DIR: nvidia-smi, the device listing, the agreement tests'
# log, the Go benchmarks' log and `gosde bench` JSON for the engine and the SDE-GAN.
set -u
bin=${1:-bin}
out=${2:-${OUT:-/tmp/gosde-gpu}}
mkdir -p "$out"
status=0
run() { # name limit command...
	local name=$1 limit=$2
	shift 2
	echo "== $name"
	timeout "$limit" "$@" >"$out/$name" 2>&1
	local rc=$?
	echo "rc=$rc" >>"$out/$name"
	tail -n 5 "$out/$name"
	[ "$rc" = 0 ] || status=1
}
run nvidia-smi.txt 30 nvidia-smi
run devices.json 30 "$bin/gosde-gpu" devices --json
run agreement.txt 300 "$bin/cuda.test" -test.v -test.count 1 -test.run .
run go-bench.txt 240 "$bin/cuda.test" -test.run '^$' -test.bench . -test.benchtime 20x
run bench-engine.json 180 "$bin/gosde-gpu" bench engine --json
run bench-gan.json 180 "$bin/gosde-gpu" bench gan --json
grep -E '^(--- FAIL|FAIL|ok|PASS)' "$out/agreement.txt" | head -n 20
grep -E 'ms/solve|ms/step|GFLOP' "$out/go-bench.txt"
exit "$status"
