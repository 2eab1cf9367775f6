package solver_test

import (
	"math"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

// TestSoak runs a small neural SDE (Dim 4, NoiseDim 2, Width 8, batch 64, blocks of 16
// so that neuralsde's helper pool takes part) through many reversible Heun steps,
// forward and backward with the Reversible adjoint, in chunks that continue each other's
// trajectory and take a small gradient step on the parameters, like training would. It
// checks that
//
//   - every chunk allocates no more than the first one measured (nothing accumulates),
//   - the live heap (HeapInuse after a GC) ends where it started, and
//   - no goroutine is left behind.
//
// Each chunk uses a fresh brownian.Interval: an Interval's tree keeps ~128 bytes per
// step it has been queried at for its whole life, by design (it is what makes replay
// exact), so one Interval over all the steps would grow; that growth is not a leak.
//
// The helper goroutines of neuralsde's pool and brownian's pool are persistent by
// design (started lazily, kept for the life of the process, parked when idle), so the
// goroutine baseline is taken after a warm-up chunk that starts them.
//
// By default it runs 10⁵ steps (about 7 s on 2 cores; 4000 under the race detector,
// which makes each step ~20× slower); GOSDE_SOAK=N (N > 1) runs N chunks of 5000 steps.
func TestSoak(t *testing.T) {
	const batch, d, m = 64, 4, 2
	chunks, perChunk := 20, 5000
	if raceEnabled {
		chunks, perChunk = 4, 1000
	}
	if n, err := strconv.Atoi(os.Getenv("GOSDE_SOAK")); err == nil && n > 1 {
		chunks = n
	}
	sde, err := neuralsde.New[float32](neuralsde.Config{Dim: d, NoiseDim: m, Noise: solver.General, Width: 8, BlockSize: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	ts := []float64{0, 0.25, 0.5, 0.75, 1}
	y0 := make([]float32, batch*d)
	for i := range y0 {
		y0[i] = float32(i%9)/9 - 0.5
	}
	gradYs := make([]float32, len(ts)*batch*d)
	for i := range gradYs {
		gradYs[i] = float32(i%5)/50 - 0.04
	}
	chunk := func(k int) {
		mo, err := brownian.NewInterval(0, 1, batch, m, uint64(k))
		if err != nil {
			t.Fatal(err)
		}
		sol, err := solver.Solve[float32](sde, y0, ts, solver.Options{Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: 1 / float64(perChunk), Motion: mo})
		if err != nil {
			t.Fatal(err)
		}
		if sol.Steps != perChunk {
			t.Fatalf("chunk %d: %d steps, want %d", k, sol.Steps, perChunk)
		}
		g, err := sol.Backward(gradYs)
		if err != nil {
			t.Fatal(err)
		}
		if g.ReconstructionError > 1e-2 {
			t.Fatalf("chunk %d: reconstruction error %g", k, g.ReconstructionError)
		}
		for i, v := range g.Params {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("chunk %d: dL/dθ[%d] = %v", k, i, v)
			}
		}
		p := sde.Params()
		for i, v := range g.Params {
			p[i] -= 1e-3 * v
		}
		last := sol.Ys[len(sol.Ys)-batch*d:]
		for i, v := range last { // continue the trajectory, kept bounded
			y0[i] = max(-2, min(2, v))
		}
	}

	start := time.Now()
	chunk(0) // warm-up: grows the model's buffers and starts the helper pools
	heap0, _ := memStats()
	gor0 := runtime.NumGoroutine()
	var first uint64
	for k := 1; k <= chunks; k++ {
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		chunk(k)
		runtime.ReadMemStats(&b)
		alloc := b.TotalAlloc - a.TotalAlloc
		if k == 1 {
			first = alloc
		} else if alloc > first+first/10+64<<10 {
			t.Errorf("chunk %d allocated %d B, the first %d B: allocation grows with time", k, alloc, first)
		}
		if n := runtime.NumGoroutine(); n > gor0 {
			t.Errorf("chunk %d: %d goroutines, %d after the warm-up", k, n, gor0)
		}
	}
	heap1, _ := memStats()
	t.Logf("%d steps in %v; %d B allocated per %d-step chunk (mostly the fresh Interval's tree); HeapInuse %d → %d B; %d goroutines",
		chunks*perChunk, time.Since(start).Round(time.Millisecond), first, perChunk, heap0, heap1, gor0)
	if heap1 > heap0+1<<20 {
		t.Errorf("HeapInuse grew from %d to %d B over %d steps", heap0, heap1, chunks*perChunk)
	}
	// Goroutines that are exiting may take a moment to be gone.
	for deadline := time.Now().Add(time.Second); runtime.NumGoroutine() > gor0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > gor0 {
		t.Errorf("%d goroutines at the end, %d after the warm-up", n, gor0)
	}
}

// memStats returns HeapInuse after two GCs (the second frees what finalizers and the
// first sweep left).
func memStats() (heapInuse uint64, ms runtime.MemStats) {
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse, ms
}
