package gan

import (
	"math"
	"strings"
	"testing"

	"github.com/gosde/gosde/host"
)

// countingEngine is the CPU engine under another name, counting the solvers it makes
// and that are closed: it stands for an engine the model is given (the GPU's).
type countingEngine struct {
	cpu          host.CPU
	made, closed int
	extraParams  int // added to every solver's NumParams, to fake a foreign layout
}

func (c *countingEngine) Name() string { return "counting" }
func (c *countingEngine) Close() error { return nil }
func (c *countingEngine) NewSolver(spec host.FieldSpec, prob host.Problem) (host.Solver, error) {
	s, err := c.cpu.NewSolver(spec, prob)
	if err != nil {
		return nil, err
	}
	c.made++
	return &countingSolver{Solver: s, e: c}, nil
}

type countingSolver struct {
	host.Solver
	e *countingEngine
}

func (s *countingSolver) NumParams() int { return s.Solver.NumParams() + s.e.extraParams }
func (s *countingSolver) Close() error {
	s.e.closed++
	return s.Solver.Close()
}

// A model given an engine solves through it, and on the CPU engine computes exactly what
// the default does; Close releases every solver it made.
func TestModelSolvesOnTheGivenEngine(t *testing.T) {
	cfg := smallConfig()
	cfg.Batch = 40
	times := uniformTimes(8)
	data := ouData(90, times, 0.5, 3) // Evaluate: batches of 40, 40, 10
	eng := &countingEngine{}
	a := newModel(t, cfg, times)
	b, err := New(cfg, times, WithEngine(eng))
	if err != nil {
		t.Fatal(err)
	}
	if eng.made != 0 {
		t.Fatalf("New made %d solvers; they are made when first needed", eng.made)
	}
	sa, sb := steps(t, a, data, 3), steps(t, b, data, 3)
	for i := range sa {
		if sa[i].DiscLoss != sb[i].DiscLoss || sa[i].GenReconstruction != sb[i].GenReconstruction || sa[i].DiscReconstruction != sb[i].DiscReconstruction {
			t.Fatalf("step %d: %+v on the default engine, %+v on the given one", i, sa[i], sb[i])
		}
	}
	equalParams(t, a.Params(), b.Params(), "after 3 steps")
	if eng.made != 2 { // one generator, one discriminator solver for the training batch
		t.Errorf("3 training steps made %d solvers, want 2 (reused across steps)", eng.made)
	}
	la, err := a.Evaluate(data, false, 5)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := b.Evaluate(data, false, 5)
	if err != nil {
		t.Fatal(err)
	}
	if la != lb {
		t.Errorf("Evaluate: %v on the default engine, %v on the given one", la, lb)
	}
	// Many sample sizes: solvers are made per batch size, but not hoarded.
	for _, n := range []int{1, 7, 2049, 33, 5, 64, 3} {
		pa, err := a.Sample(n, 9, false)
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.Sample(n, 9, false)
		if err != nil {
			t.Fatal(err)
		}
		for i := range pa.Values {
			if math.Float64bits(pa.Values[i]) != math.Float64bits(pb.Values[i]) {
				t.Fatalf("Sample(%d): value %d is %v on the default engine, %v on the given one", n, i, pa.Values[i], pb.Values[i])
			}
		}
		if open := eng.made - eng.closed; open > 2*maxSolvers {
			t.Fatalf("%d solvers open after Sample(%d), want at most %d", open, n, 2*maxSolvers)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if eng.closed != eng.made {
		t.Errorf("after Close: %d of %d solvers closed", eng.closed, eng.made)
	}
	// A closed model makes new solvers when used again.
	if _, err := b.Sample(3, 1, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil || eng.closed != eng.made {
		t.Errorf("second Close: %v; %d of %d solvers closed", err, eng.closed, eng.made)
	}
}

// An engine whose fields do not have the model's parameter layout is refused when its
// solver is made, rather than trained with parameters in the wrong places.
func TestModelRefusesAForeignParameterLayout(t *testing.T) {
	cfg := smallConfig()
	times := uniformTimes(6)
	eng := &countingEngine{extraParams: 1}
	m, err := New(cfg, times, WithEngine(eng))
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Step(ouData(100, times, 0.5, 1))
	if err == nil || !strings.Contains(err.Error(), "parameter layout") {
		t.Fatalf("Step on a foreign layout: %v", err)
	}
	if eng.closed != eng.made {
		t.Errorf("%d of %d refused solvers closed", eng.closed, eng.made)
	}
}

// Engines compute in float32; the float64 engine of the tests cannot take one.
func TestFloat64EngineRefusesAnEngine(t *testing.T) {
	e, err := newEngine[float64](tinyConfig(1, 1), uniformTimes(4))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.useEngine(&countingEngine{}); err == nil || !strings.Contains(err.Error(), "float32") {
		t.Fatalf("useEngine on engine[float64]: %v", err)
	}
}
