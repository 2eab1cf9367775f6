#!/usr/bin/env bash
# make peer-check: holds gosde to torchsde, torchcde and torchsde's SDE-GAN example
# (the paper's own code) on identical inputs. gosde writes the cases — weights, y0, the
# Brownian increments of every step, its outputs and gradients — and
# scripts/peer_check.py runs the peers on them and compares (README, "Cross-checked
# against torchsde").
#
# Needs the peers' sources in ../shared/peers beside the checkout (or PEERS=DIR) and
# Debian's PyTorch: installs python3-torch, python3-numpy and python3-scipy (torchdiffeq,
# which torchcde imports, imports scipy) with apt when /usr/bin/python3 cannot import
# them. Where neither is possible (no peers, not Debian, no root) it says so and skips,
# exiting 0.
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=${PEERS:-../shared/peers}
PYTHON=${PYTHON:-/usr/bin/python3}

skip() {
	echo "peer-check: SKIPPED: $*" >&2
	exit 0
}

[ -d "$PEERS/torchsde/torchsde" ] && [ -d "$PEERS/torchcde/torchcde" ] && [ -d "$PEERS/torchdiffeq/torchdiffeq" ] ||
	skip "the peers' sources are not in $PEERS (torchsde, torchcde, torchdiffeq); set PEERS=DIR"
PEERS=$(cd "$PEERS" && pwd)

have_python() {
	[ -x "$PYTHON" ] && "$PYTHON" -c 'import torch, numpy, scipy' >/dev/null 2>&1
}

if ! have_python; then
	if [ ! -f /etc/debian_version ] || ! command -v apt-get >/dev/null 2>&1; then
		skip "$PYTHON cannot import torch, numpy and scipy, and this is not a Debian system to install them on (install PyTorch ≥ 1.13 and rerun with PYTHON=...)"
	fi
	SUDO=""
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
			SUDO="sudo"
		else
			skip "$PYTHON cannot import torch, numpy and scipy, and installing python3-torch needs root"
		fi
	fi
	echo "peer-check: installing python3-torch python3-numpy python3-scipy (about 190 MB)"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	$SUDO apt-get install -y -q --no-install-recommends python3-torch python3-numpy python3-scipy
	have_python || {
		echo "peer-check: installed, but $PYTHON still cannot import torch, numpy and scipy" >&2
		exit 1
	}
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cases=$tmp/cases
start=$(date +%s)

go build -o "$tmp/gosde" ./cmd/gosde
# A short SDE-GAN run whose averaged generator is exported under torchsde's names.
if ! "$tmp/gosde" train --steps 6 --batch 32 --eval-paths 100 --swa-start 2 --out "$tmp/run" >"$tmp/train.log" 2>&1; then
	cat "$tmp/train.log" >&2
	exit 1
fi
"$tmp/gosde" export --checkpoint "$tmp/run" --out "$tmp/generator.safetensors"
go run ./internal/peer/peerdump -dir "$cases" -checkpoint "$tmp/run"
GOSDE_PEER_DIR=$cases go test -count=1 -run '^TestPeerDump$' ./gan/
echo "peer-check: gosde's cases written in $(($(date +%s) - start)) s"

PYTHONPATH=$PEERS/torchsde:$PEERS/torchcde:$PEERS/torchdiffeq:$PEERS/pylib${PYTHONPATH:+:$PYTHONPATH} \
	OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=1 \
	"$PYTHON" scripts/peer_check.py "$cases" --export "$tmp/generator.safetensors" ${PEER_JSON:+--json "$PEER_JSON"}
echo "peer-check: done in $(($(date +%s) - start)) s"
