package bench

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gosde/gosde/brownian"
)

// Sweep kinds accepted by measureSweep.
const (
	kindInterval    = "interval"     // Interval with Plan of the step grid
	kindVirtualTree = "virtual-tree" // VirtualTree with tol = 1e-6 × span
	kindPath        = "path"         // Path
	kindRaw         = "raw"          // math/rand/v2 PCG NormFloat64, one normal per value returned
)

// sweepKinds are the kinds measureSweep accepts, the yardstick (raw) first: the
// samplers compared by the Brownian experiment, in table order.
var sweepKinds = []string{kindRaw, kindInterval, kindVirtualTree, kindPath}

// sweepTolerance is the VirtualTree tolerance used by sweeps, relative to the span.
const sweepTolerance = 1e-6

// rawSeedMix is XORed into the seed for the second word of the raw yardstick's PCG
// state (2^64/φ, the splitmix64 increment).
const rawSeedMix = 0x9e3779b97f4a7c15

// sweepCase is one cell of the Brownian benchmark table: a forward then a reverse sweep
// of Steps equal steps over [0, 1] at the given batch and dim, by the sampler Kind.
type sweepCase struct {
	Kind  string
	Batch int
	Dim   int
	Steps int
}

// defaultSweepCases returns the benchmark table's cases: every kind at
// (batch, dim) = (1, 1), (1024, 3) and (32768, 3), 1000 steps.
func defaultSweepCases() []sweepCase {
	var cs []sweepCase
	for _, sz := range [][2]int{{1, 1}, {1024, 3}, {32768, 3}} {
		for _, k := range sweepKinds {
			cs = append(cs, sweepCase{Kind: k, Batch: sz[0], Dim: sz[1], Steps: 1000})
		}
	}
	return cs
}

// measure runs measureSweep for the case.
func (c sweepCase) measure(seed uint64) (time.Duration, error) {
	return measureSweep(c.Kind, c.Batch, c.Dim, c.Steps, seed)
}

// normals returns the number of normals the raw yardstick draws for the case: one per
// increment value returned, 2 × Steps × Batch × Dim.
func (c sweepCase) normals() int64 { return 2 * int64(c.Steps) * int64(c.Batch) * int64(c.Dim) }

// measureSweep times one forward sweep then one reverse sweep of steps equal steps over
// [0, 1], at batch paths of dim channels, by the sampler kind (see sweepKinds), seeded
// by seed: what a solver and its adjoint ask of the Brownian motion. The timing includes
// constructing the sampler (and planning the grid, for the Interval) but not
// allocating the grid or the destination. For kindRaw it times drawing the same number
// of values, 2·steps·batch·dim, with math/rand/v2's PCG and NormFloat64. The caller
// repeats and takes medians.
func measureSweep(kind string, batch, dim, steps int, seed uint64) (time.Duration, error) {
	if steps < 1 {
		return 0, fmt.Errorf("brownian sweep: steps = %d must be at least 1", steps)
	}
	if batch <= 0 || dim <= 0 {
		return 0, fmt.Errorf("brownian sweep: batch %d and dim %d must both be positive", batch, dim)
	}
	ts := sweepGrid(steps)
	dst := make([]float64, batch*dim)
	switch kind {
	case kindRaw:
		start := time.Now()
		r := rand.New(rand.NewPCG(seed, seed^rawSeedMix))
		for range 2 * steps {
			for i := range dst {
				dst[i] = r.NormFloat64()
			}
		}
		return time.Since(start), nil
	case kindInterval, kindVirtualTree, kindPath:
	default:
		return 0, fmt.Errorf("brownian sweep: unknown kind %q; want one of %v", kind, sweepKinds)
	}
	start := time.Now()
	m, err := newSweepMotion(kind, batch, dim, ts, seed)
	if err != nil {
		return 0, err
	}
	if err := sweepMotion(m, ts, dst); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// sweepGrid returns the steps+1 equally spaced times k/steps of [0, 1] (the last
// exactly 1).
func sweepGrid(steps int) []float64 {
	ts := make([]float64, steps+1)
	for k := range ts {
		ts[k] = float64(k) / float64(steps)
	}
	return ts
}

// newSweepMotion builds the sampler of the given kind over [ts[0], ts[len-1]] as a
// sweep uses it: an Interval is planned on ts, a VirtualTree gets tolerance
// sweepTolerance × span. kindRaw is not a Motion and is rejected.
func newSweepMotion(kind string, batch, dim int, ts []float64, seed uint64) (brownian.Motion, error) {
	if len(ts) < 2 {
		return nil, fmt.Errorf("brownian sweep: need at least two times, got %d", len(ts))
	}
	t0, t1 := ts[0], ts[len(ts)-1]
	switch kind {
	case kindInterval:
		iv, err := brownian.NewInterval(t0, t1, batch, dim, seed)
		if err != nil {
			return nil, err
		}
		if err := iv.Plan(ts); err != nil {
			return nil, err
		}
		return iv, nil
	case kindVirtualTree:
		return brownian.NewVirtualTree(t0, t1, batch, dim, seed, sweepTolerance*(t1-t0))
	case kindPath:
		return brownian.NewPath(t0, t1, batch, dim, seed)
	}
	return nil, fmt.Errorf("brownian sweep: unknown kind %q; want %q, %q or %q", kind, kindInterval, kindVirtualTree, kindPath)
}

// sweepMotion queries m over the steps of ts forwards, then backwards, into dst (length
// Batch·Dim): what a solve and its adjoint ask of the Brownian motion.
func sweepMotion(m brownian.Motion, ts []float64, dst []float64) error {
	n := len(ts) - 1
	for k := 0; k < n; k++ {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
	}
	for k := n - 1; k >= 0; k-- {
		if err := m.Increment(dst, ts[k], ts[k+1]); err != nil {
			return err
		}
	}
	return nil
}
