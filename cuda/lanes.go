package cuda

import (
	"fmt"

	"github.com/gosde/gosde/kernels"
)

// pathLaunch is how a reversible-Heun launch (revheun.cu) maps GPU threads onto
// paths: lanes threads per path, threads per block, and whether each path's workspace
// (stageWS) and, in the adjoint, its parameter cotangents (stageG) sit in the block's
// shared memory (sharedBytes of it) instead of global memory.
type pathLaunch struct {
	lanes, threads  int
	stageWS, stageG bool
	sharedBytes     int
}

func (pl pathLaunch) String() string {
	return fmt.Sprintf("%d lanes × %d paths per block, shared %d B (workspace %v, gradients %v)",
		pl.lanes, pl.threads/pl.lanes, pl.sharedBytes, pl.stageWS, pl.stageG)
}

// Sizes that shape a launch.
const (
	blockThreads = 128      // threads per block when the batch allows
	warpThreads  = 32       // a block of fewer threads leaves part of a warp idle
	sharedLimit  = 48 << 10 // dynamic shared memory a block gets without opting in
	// lanesThreadsPerSM bounds the threads per multiprocessor that lanes may make
	// (the excess waits for a later wave): past it, more lanes add barriers and idle
	// lanes but no parallelism the device can use. Its value is loosely measured: on
	// an H200 at batch 65,536 it keeps 16 lanes at hidden 16, the fastest there (472 ms
	// against 567 with one lane), and gives 16 at hidden 128, where 2 were fastest
	// (1.14 s against 1.34 s); at that batch copies and host increments dominate the
	// solve, so the sweep (docs/bench/gpu-h200/lanes-sweep.txt) does not pin it down.
	lanesThreadsPerSM = 8192
)

// autoLanes is the lanes per path for a batch of B paths on a device with sms
// multiprocessors, for a field whose widest hidden layer is hidden: the largest power
// of two up to kernels.MaxLanes and hidden, halved while the batch would put more than
// lanesThreadsPerSM threads on each multiprocessor. The emulator (sms = 0) takes one.
// Measured on an H200 (132 multiprocessors), forward+adjoint of the SDE-GAN's
// generator over 64 steps (BenchmarkGeneratorForwardAdjoint): at batch 1024 hidden 16
// ran fastest with 16 lanes (8.5 ms; 21.9 ms with one), hidden 128 with 32 (37 ms;
// 331 ms with one).
func autoLanes(B, sms, hidden int) int {
	if sms == 0 {
		return 1
	}
	lanes := 1
	for lanes < kernels.MaxLanes && 2*lanes <= hidden {
		lanes *= 2
	}
	for lanes > 1 && B*lanes > sms*lanesThreadsPerSM {
		lanes /= 2
	}
	return lanes
}

// planPaths chooses the launch shape of a field's forward (backward false) or adjoint
// at batch B: lanes (0: autoLanes), then as many paths per block as fit blockThreads,
// fewer while that would leave multiprocessors without a block, and the per-path rows
// staged in shared memory when they fit without shrinking the block below a warp for
// them.
func planPaths(field *kernels.Field, B, sms, lanes int, backward bool) pathLaunch {
	if lanes <= 0 {
		lanes = autoLanes(B, sms, field.Hidden)
	}
	ppb := max(1, blockThreads/lanes)
	for ppb > 1 && (B+ppb-1)/ppb < sms {
		ppb /= 2
	}
	minPPB := max(1, warpThreads/lanes)
	type option struct{ ws, g bool }
	options := []option{{true, false}, {false, false}}
	if backward {
		options = []option{{true, true}, {true, false}, {false, false}}
	}
	for _, o := range options {
		rows := 0
		if o.ws {
			rows += field.Rows
		}
		if o.g {
			rows += field.NumParams
		}
		n := ppb
		for n > minPPB && n*rows*4 > sharedLimit {
			n /= 2
		}
		if n*rows*4 <= sharedLimit {
			return pathLaunch{lanes: lanes, threads: n * lanes, stageWS: o.ws, stageG: o.g, sharedBytes: n * rows * 4}
		}
	}
	panic("unreachable: the last option stages nothing")
}
