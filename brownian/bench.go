package brownian

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Sweep kinds accepted by MeasureSweep.
const (
	KindInterval    = "interval"     // Interval with Plan of the step grid
	KindVirtualTree = "virtual-tree" // VirtualTree with tol = 1e-6 × span
	KindPath        = "path"         // Path
	KindRaw         = "raw"          // math/rand/v2 PCG NormFloat64, one normal per value returned
)

// SweepKinds lists the kinds MeasureSweep accepts, the yardstick (raw) first.
var SweepKinds = []string{KindRaw, KindInterval, KindVirtualTree, KindPath}

// SweepTolerance is the VirtualTree tolerance used by sweeps, relative to the span.
const SweepTolerance = 1e-6

// SweepCase is one cell of the Brownian benchmark table: a forward then a reverse sweep
// of Steps equal steps over [0, 1] at the given batch and dim, by the sampler Kind.
type SweepCase struct {
	Kind  string
	Batch int
	Dim   int
	Steps int
}

// DefaultSweepCases returns the benchmark table's cases: every kind at
// (batch, dim) = (1, 1), (1024, 3) and (32768, 3), 1000 steps.
func DefaultSweepCases() []SweepCase {
	var cs []SweepCase
	for _, sz := range [][2]int{{1, 1}, {1024, 3}, {32768, 3}} {
		for _, k := range SweepKinds {
			cs = append(cs, SweepCase{Kind: k, Batch: sz[0], Dim: sz[1], Steps: 1000})
		}
	}
	return cs
}

// Measure runs MeasureSweep for the case.
func (c SweepCase) Measure(seed uint64) (time.Duration, error) {
	return MeasureSweep(c.Kind, c.Batch, c.Dim, c.Steps, seed)
}

// Normals returns the number of normals the raw yardstick draws for the case: one per
// increment value returned, 2 × Steps × Batch × Dim.
func (c SweepCase) Normals() int64 { return 2 * int64(c.Steps) * int64(c.Batch) * int64(c.Dim) }

// MeasureSweep times one forward sweep then one reverse sweep of steps equal steps over
// [0, 1], at batch paths of dim channels, by the sampler kind (see SweepKinds), seeded
// by seed: what a solver and its adjoint ask of the Brownian motion. The timing includes
// constructing the sampler (and planning the grid, for the Interval) but not
// allocating the grid or the destination. For KindRaw it times drawing the same number
// of values, 2·steps·batch·dim, with math/rand/v2's PCG and NormFloat64. The caller
// repeats and takes medians.
func MeasureSweep(kind string, batch, dim, steps int, seed uint64) (time.Duration, error) {
	if steps < 1 {
		return 0, fmt.Errorf("brownian: MeasureSweep: steps = %d must be at least 1", steps)
	}
	if batch <= 0 || dim <= 0 {
		return 0, fmt.Errorf("brownian: MeasureSweep: batch %d and dim %d must both be positive", batch, dim)
	}
	ts := SweepGrid(steps)
	dst := make([]float64, batch*dim)
	switch kind {
	case KindRaw:
		start := time.Now()
		r := rand.New(rand.NewPCG(seed, seed^golden))
		for range 2 * steps {
			for i := range dst {
				dst[i] = r.NormFloat64()
			}
		}
		return time.Since(start), nil
	case KindInterval, KindVirtualTree, KindPath:
	default:
		return 0, fmt.Errorf("brownian: MeasureSweep: unknown kind %q; want one of %v", kind, SweepKinds)
	}
	start := time.Now()
	m, err := NewSweepMotion(kind, batch, dim, ts, seed)
	if err != nil {
		return 0, err
	}
	if err := Sweep(m, ts, dst, nil); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// SweepGrid returns the steps+1 equally spaced times k/steps of [0, 1] (the last
// exactly 1).
func SweepGrid(steps int) []float64 {
	ts := make([]float64, steps+1)
	for k := range ts {
		ts[k] = float64(k) / float64(steps)
	}
	return ts
}

// NewSweepMotion builds the sampler of the given kind over [ts[0], ts[len-1]] as a
// sweep uses it: an Interval is planned on ts, a VirtualTree gets tolerance
// SweepTolerance × span. KindRaw is not a Motion and is rejected.
func NewSweepMotion(kind string, batch, dim int, ts []float64, seed uint64) (Motion, error) {
	if len(ts) < 2 {
		return nil, fmt.Errorf("brownian: NewSweepMotion: need at least two times, got %d", len(ts))
	}
	t0, t1 := ts[0], ts[len(ts)-1]
	switch kind {
	case KindInterval:
		iv, err := NewInterval(t0, t1, batch, dim, seed)
		if err != nil {
			return nil, err
		}
		if err := iv.Plan(ts); err != nil {
			return nil, err
		}
		return iv, nil
	case KindVirtualTree:
		return NewVirtualTree(t0, t1, batch, dim, seed, SweepTolerance*(t1-t0))
	case KindPath:
		return NewPath(t0, t1, batch, dim, seed)
	}
	return nil, fmt.Errorf("brownian: NewSweepMotion: unknown kind %q; want %q, %q or %q", kind, KindInterval, KindVirtualTree, KindPath)
}

// Sweep queries m over the steps of ts forwards, then backwards, into dst (length
// Batch·Dim). If visit is not nil it is called after every query with the step index
// k (the increment over [ts[k], ts[k+1]]), whether the sweep is going backwards, and
// dst.
func Sweep(m Motion, ts []float64, dst []float64, visit func(k int, backwards bool, dw []float64)) error {
	n := len(ts) - 1
	for k := 0; k < n; k++ {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
		if visit != nil {
			visit(k, false, dst)
		}
	}
	for k := n - 1; k >= 0; k-- {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
		if visit != nil {
			visit(k, true, dst)
		}
	}
	return nil
}
