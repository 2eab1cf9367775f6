// Package brownian samples Brownian motion for stochastic differential equation solvers:
// the Brownian Interval of Kidger et al. (2021), exact and replayable forwards and
// backwards in time with bounded memory, and the two baselines it is measured against,
// the Virtual Brownian Tree (approximate) and the Brownian Path (stores everything).
//
// Every sampler here is seeded and batch-invariant: the values of path p depend only on
// the seed, p and the sequence of queries, never on how many paths are in the batch.
//
// No sampler is safe for concurrent use (queries update caches); use one per goroutine.
// Large batches (16384 values or more) are computed in parallel, in fixed chunks of
// paths, on the calling goroutine and a package-wide pool of up to GOMAXPROCS−1 helper
// goroutines that park when idle; results do not depend on how many take part.
package brownian

// Motion is a batch of independent Brownian motions of Dim channels each, queried by
// increments over a closed time span.
type Motion interface {
	Batch() int
	Dim() int
	Span() (t0, t1 float64)
	// Increment writes W(t) − W(s) for every path and channel, path-major: dst[p*Dim()+c].
	Increment(dst []float64, s, t float64) error
}

// Planner is implemented by motions that can prepare for a known step grid, such as a
// solver's. PlanGrid(g) says that the queries to come are mostly the increments over
// the steps of g; an Interval uses it to build a balanced dependency tree whose leaves
// are exactly those steps, so that forward and reverse sweeps cost O(1) amortised per
// query. A Planner may refuse a plan (for instance once it has answered queries) and
// still answers every query exactly.
type Planner interface {
	PlanGrid(g Grid) error
}
