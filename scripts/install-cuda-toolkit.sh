#!/usr/bin/env bash
# Installs what `make gpu-check` needs on a machine without it: Debian's
# nvidia-cuda-toolkit (CUDA 11.8: nvcc, ptxas, cuda.h and the libcuda stub).
#
# Why 11.8 and not a newer toolkit: gorgonia.org/cu does not compile against
# CUDA 13 headers (cuCtxCreate changed arity), and a binary linked against the
# 11.8 stub runs on newer drivers. The package lives in Debian's non-free
# component, which this script enables when it is missing.
#
# Idempotent: does nothing when nvcc and cuda.h are already present.
set -euo pipefail

have_toolkit() {
	command -v nvcc >/dev/null 2>&1 && [ -f /usr/include/cuda.h ]
}

if have_toolkit; then
	echo "install-cuda-toolkit: nvcc already present: $(nvcc --version | tail -n 1)"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-cuda-toolkit: nvcc is missing and this is not a Debian-like system;" >&2
	echo "  install a CUDA toolkit <= 12 (nvcc, cuda.h, libcuda stub) by hand and rerun." >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-cuda-toolkit: need root (or sudo) to install nvidia-cuda-toolkit" >&2
		exit 1
	fi
fi

# Enable contrib and non-free in deb822 sources (bookworm's default format) or
# in the classic sources.list, whichever this machine uses.
src=/etc/apt/sources.list.d/debian.sources
if [ -f "$src" ]; then
	if ! grep -q 'non-free' "$src"; then
		$SUDO sed -i -E 's/^(Components:.*\bmain\b)(.*)$/\1 contrib non-free\2/' "$src"
	fi
elif [ -f /etc/apt/sources.list ]; then
	if ! grep -q 'non-free' /etc/apt/sources.list; then
		$SUDO sed -i -E 's/^(deb .* main)$/\1 contrib non-free/' /etc/apt/sources.list
	fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# No recommends: they pull in the NVIDIA driver, which a machine without a GPU
# neither needs nor can load.
$SUDO apt-get install -y -q --no-install-recommends nvidia-cuda-toolkit nvidia-cuda-dev

if ! have_toolkit; then
	echo "install-cuda-toolkit: installation finished but nvcc or cuda.h is still missing" >&2
	exit 1
fi
echo "install-cuda-toolkit: installed $(nvcc --version | tail -n 1)"
