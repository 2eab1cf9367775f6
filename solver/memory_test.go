package solver

import (
	"math"
	"runtime"
	"testing"
)

// allocated returns the bytes and objects allocated while f runs: the least of five
// runs, on one P (as testing.AllocsPerRun does), so that the occasional allocation of
// the runtime or of another goroutine is not counted.
func allocated(f func()) (bytes, objects uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	bytes, objects = math.MaxUint64, math.MaxUint64
	for range 5 {
		runtime.GC()
		var a, b runtime.MemStats
		runtime.ReadMemStats(&a)
		f()
		runtime.ReadMemStats(&b)
		bytes = min(bytes, b.TotalAlloc-a.TotalAlloc)
		objects = min(objects, b.Mallocs-a.Mallocs)
	}
	return bytes, objects
}

func solveAndBackward(t *testing.T, adj Adjoint, steps int) (uint64, uint64) {
	const batch, d = 4, 3
	sde := newTestSDE[float64](d, d, Diagonal, 100)
	y0 := randVec[float64](batch*d, 0.5, 101)
	ts := []float64{0, 0.5, 1}
	w := randVec[float64](len(ts)*batch*d, 1, 102)
	mo := &hashMotion{batch: batch, dim: d, t0: 0, t1: 1, seed: 103}
	opt := Options{Method: ReversibleHeun, Dt: 1 / float64(steps), Motion: mo, Adjoint: adj}
	run := func() {
		sol, err := Solve[float64](sde, y0, ts, opt)
		if err != nil {
			t.Fatal(err)
		}
		if sol.Steps != steps {
			t.Fatalf("Steps = %d, want %d", sol.Steps, steps)
		}
		if _, err := sol.Backward(w); err != nil {
			t.Fatal(err)
		}
	}
	run() // warm up the SDE's own buffers
	return allocated(run)
}

func TestReversibleMemoryIsFlat(t *testing.T) {
	b100, o100 := solveAndBackward(t, Reversible, 100)
	b10k, o10k := solveAndBackward(t, Reversible, 10000)
	ratio := float64(b10k) / float64(b100)
	t.Logf("Reversible Solve+Backward: %d B in %d objects at 100 steps, %d B in %d objects at 10,000 steps (ratio %.3f)", b100, o100, b10k, o10k, ratio)
	if ratio > 1.1 {
		t.Errorf("Reversible memory grows with the number of steps: ratio %.3f > 1.1", ratio)
	}
	if o10k > o100+2 {
		t.Errorf("allocations grow with the number of steps: %d objects at 100 steps, %d at 10,000", o100, o10k)
	}
	p100, _ := solveAndBackward(t, Backprop, 100)
	p10k, _ := solveAndBackward(t, Backprop, 10000)
	pr := float64(p10k) / float64(p100)
	t.Logf("Backprop Solve+Backward: %d B at 100 steps, %d B at 10,000 steps (ratio %.1f)", p100, p10k, pr)
	if pr < 20 {
		t.Errorf("Backprop memory ratio %.1f: expected it to grow about linearly with the steps", pr)
	}
}

func TestNoAllocationPerStep(t *testing.T) {
	for _, m := range methods {
		for _, adj := range []Adjoint{Backprop, Reversible, Continuous} {
			if (adj == Reversible && m != ReversibleHeun) || (adj == Continuous && m != Midpoint) {
				continue
			}
			sde := newTestSDE[float32](3, 2, General, 110)
			y0 := randVec[float32](2*3, 0.5, 111)
			ts := []float64{0, 1}
			w := randVec[float32](2*2*3, 1, 112)
			mo := &hashMotion{batch: 2, dim: 2, t0: 0, t1: 1, seed: 113}
			count := func(steps int) uint64 {
				_, o := allocated(func() {
					sol, err := Solve[float32](sde, y0, ts, Options{Method: m, Adjoint: adj, Dt: 1 / float64(steps), Motion: mo})
					if err != nil {
						t.Fatal(err)
					}
					if _, err := sol.Backward(w); err != nil {
						t.Fatal(err)
					}
				})
				return o
			}
			count(10)
			if a, b := count(10), count(1000); b > a+2 {
				t.Errorf("%v/%v: %d allocations at 10 steps, %d at 1000", m, adj, a, b)
			}
		}
	}
}
