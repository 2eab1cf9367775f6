package brownian

import (
	"errors"
	"fmt"
	"math"

	"github.com/gosde/gosde/internal/guard"
)

// DefaultCacheSize is the number of node value blocks an Interval keeps in its LRU
// cache unless WithCacheSize says otherwise, for blocks of up to 256 KiB; larger
// blocks get a smaller default, so that the cache stays within DefaultCacheBytes, but
// never fewer than MinDefaultCacheSize nodes (enough for a planned sweep of 2¹⁵ steps to
// cost one split per step).
const (
	DefaultCacheSize    = 128
	DefaultCacheBytes   = 32 << 20
	MinDefaultCacheSize = 32
)

// defaultCacheSize returns the default capacity for blocks of blockLen float64s.
func defaultCacheSize(blockLen int) int {
	n := DefaultCacheBytes / (8 * blockLen)
	return max(MinDefaultCacheSize, min(DefaultCacheSize, n))
}

// maxNodes bounds the tree so that node indices fit in an int32.
const maxNodes = math.MaxInt32 - 2

// ErrNoLevyArea is returned by IncrementArea on an Interval made without WithLevyArea.
var ErrNoLevyArea = errors.New("brownian: this Interval does not track space-time Lévy area; construct it with WithLevyArea()")

// ErrPlanAfterQuery is returned by Plan once the Interval has answered a query.
var ErrPlanAfterQuery = errors.New("brownian: Plan must be called before the first non-empty query; construct a new Interval to use another plan")

// IntervalOption configures NewInterval.
type IntervalOption func(*intervalConfig)

type intervalConfig struct {
	cacheSize int
	cacheSet  bool
	levy      bool
}

// WithCacheSize sets the capacity of the Interval's LRU cache of node values, in nodes
// (each node's value is a block of batch×dim float64s, twice that with Lévy area).
// It must be at least 1; the default is DefaultCacheSize nodes, fewer for very large
// blocks (see DefaultCacheBytes). Larger caches make random access cheaper; a sweep
// over a Plan of N steps needs no more than 2·log₂N + 2 nodes (the path to the current
// step and the siblings along it) to cost one split per step.
func WithCacheSize(nodes int) IntervalOption {
	return func(c *intervalConfig) { c.cacheSize, c.cacheSet = nodes, true }
}

// WithLevyArea makes the Interval track the space-time Lévy area H of every node
// alongside its increment W, so that IncrementArea can be used. The splitting formulas
// then follow the joint law of (W, H); the increments differ from (but have the same
// law as) those of an Interval without Lévy area built from the same seed.
func WithLevyArea() IntervalOption {
	return func(c *intervalConfig) { c.levy = true }
}

// IntervalStats counts an Interval's work, for diagnostics and benchmarks.
type IntervalStats struct {
	Nodes     int   // nodes in the tree (structure only; values are cached separately)
	Splits    int64 // node values computed by splitting a parent, counted per split (two children each)
	Roots     int64 // times the root's value was drawn from the seed
	Hits      int64 // node values found in the cache
	Misses    int64 // node values that had to be recomputed
	Cached    int   // value blocks currently in the cache
	Allocated int   // value blocks allocated over the Interval's life (cached + free)
}

// Interval is the Brownian Interval of Kidger, Foster, Li & Lyons (2021): a batch of
// Brownian motions sampled exactly at any query and reconstructed exactly on replay,
// with memory bounded by an LRU cache of node values.
//
// The span [t0, t1] is the root of a binary tree of intervals. Each node has a seed,
// derived from its parent's; the root's increment (and Lévy area) is drawn from its
// seed, and splitting a node draws the Brownian-bridge normals that share its value
// between its children from the node's own seed. Values are never stored in the tree:
// they live in the cache and, when evicted, are recomputed bit-identically from the
// nearest cached ancestor.
//
// A query Increment(dst, s, t) is answered as the left-to-right sum of the maximal
// tree nodes contained in [s, t], splitting leaves at s and t where needed (after a
// midpoint split if both fall in the same half of a long leaf, so the tree stays
// balanced). Since later queries only split leaves, the nodes covering an earlier query
// never change, and any earlier query asked again returns bit-identically what it
// returned the first time, whatever was evicted in between.
//
// Plan(ts), called before the first query, lays out a balanced tree whose leaves are
// the intervals between neighbouring ts, so that a forward and a reverse sweep over
// that grid cost about one split per step each.
//
// Without a plan, a query inside one half of a leaf more than dyadicRatio (8) times
// its length splits the leaf at its midpoint first, so an unplanned sweep of N equal
// steps builds a tree of depth about log₂N + 8 and costs about 1.5 splits per step.
//
// Memory: the tree's node structs (64 bytes each, kept for the Interval's life; about
// 2N for a sweep of N steps) plus at most CacheSize()+2 value blocks, reused through a
// free list. A query allocates nothing once the tree and the cache have grown.
//
// Path p's values depend only on the seed, p and the sequence of queries: not on the
// batch size, and not on GOMAXPROCS (batches of 16384 values or more are split over
// goroutines in fixed chunks of paths).
//
// Concurrency: an Interval is not safe for concurrent use: queries mutate the tree and
// the cache. Use one per goroutine (each may be made with the same seed: they answer
// alike). Overlapping calls of Plan, PlanGrid, Increment or IncrementArea from two
// goroutines are detected (one atomic flag per call) and panic rather than corrupt it;
// the accessors (Batch, Dim, Span, LevyArea, CacheSize, Stats) must not race with them
// either, but are not checked.
type Interval struct {
	t0, t1    float64
	batch     int
	dim       int
	levy      bool
	blockLen  int // batch*dim, doubled with Lévy area (W then H)
	cacheSize int

	nodes   []node
	plan    plan // the planned grid; no times without a plan
	queried bool

	// LRU cache, an intrusive doubly linked list through the nodes: head is the most
	// recently used, tail the least.
	head, tail int32
	cached     int
	clock      uint64 // counts moves to the front of the LRU
	blocks     [][]float64
	free       []int32

	ph     []uint64 // pathHash per path
	g      *gauss
	job    parJob
	sj     splitJob
	cov    []int32 // nodes covering the current query
	last   int32   // last node of the previous cover: the next descent starts above it
	walked int32   // parent whose ancestors were last refreshed in the LRU

	stats IntervalStats
	use   guard.InUse
}

// node is one interval [a, b] of the tree. Children are allocated together: right is
// left+1. Values live in blocks[blk] when cached.
type node struct {
	a, b       float64
	seed       uint64
	parent     int32
	left       int32  // -1 for a leaf
	blk        int32  // -1 when not cached
	prev, next int32  // LRU links, -1 at the ends
	lo, hi     int32  // the plan's grid indices [lo, hi] this node spans, lo = -1 if none
	stamp      uint64 // iv.clock when last put at the front of the LRU
}

// NewInterval returns a Brownian Interval over [t0, t1] of batch independent paths of
// dim channels, seeded by seed. t0 < t1 must both be finite, batch and dim positive.
func NewInterval(t0, t1 float64, batch, dim int, seed uint64, opts ...IntervalOption) (*Interval, error) {
	if err := checkShape("NewInterval", t0, t1, batch, dim); err != nil {
		return nil, err
	}
	var cfg intervalConfig
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	blockLen := batch * dim
	if cfg.levy {
		blockLen *= 2
	}
	if !cfg.cacheSet {
		cfg.cacheSize = defaultCacheSize(blockLen)
	}
	if cfg.cacheSize < 1 {
		return nil, fmt.Errorf("brownian: NewInterval: cache size %d is too small; pass WithCacheSize(n) with n ≥ 1 (default %d)", cfg.cacheSize, DefaultCacheSize)
	}
	iv := &Interval{
		t0: t0, t1: t1, batch: batch, dim: dim, levy: cfg.levy,
		blockLen: blockLen, cacheSize: cfg.cacheSize,
		head: -1, tail: -1,
		ph: pathHashes(batch),
		g:  newGauss(),
	}
	iv.nodes = append(iv.nodes, node{
		a: t0, b: t1, seed: rootSeed(seed, domainInterval),
		parent: -1, left: -1, blk: -1, prev: -1, next: -1, lo: -1, hi: -1,
	})
	iv.walked = -1
	iv.sj.init(iv)
	return iv, nil
}

// checkShape validates the arguments shared by the constructors.
func checkShape(who string, t0, t1 float64, batch, dim int) error {
	if !isFinite(t0) || !isFinite(t1) {
		return fmt.Errorf("brownian: %s: span [%v, %v] must have finite ends", who, t0, t1)
	}
	if !(t0 < t1) {
		return fmt.Errorf("brownian: %s: span [%v, %v] is empty; need t0 < t1", who, t0, t1)
	}
	if batch <= 0 || dim <= 0 {
		return fmt.Errorf("brownian: %s: batch %d and dim %d must both be positive", who, batch, dim)
	}
	if batch > math.MaxInt32 || dim > math.MaxInt32 || batch*dim/dim != batch || batch*dim > math.MaxInt32 {
		return fmt.Errorf("brownian: %s: batch %d × dim %d is too large (at most %d values per block)", who, batch, dim, math.MaxInt32)
	}
	return nil
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// checkQuery validates a query against a span and a batch×dim destination.
func checkQuery(who string, t0, t1 float64, want, got int, s, t float64) error {
	if got != want {
		return fmt.Errorf("brownian: %s: destination has length %d, want batch×dim = %d", who, got, want)
	}
	if !isFinite(s) || !isFinite(t) {
		return fmt.Errorf("brownian: %s: times s = %v, t = %v must be finite", who, s, t)
	}
	if s > t {
		return fmt.Errorf("brownian: %s: s = %v is after t = %v; ask for the increment over [min, max] and negate it", who, s, t)
	}
	if s < t0 || t > t1 {
		return fmt.Errorf("brownian: %s: [%v, %v] is outside the span [%v, %v]", who, s, t, t0, t1)
	}
	return nil
}

// Batch returns the number of paths.
func (iv *Interval) Batch() int { return iv.batch }

// Dim returns the number of channels of each path.
func (iv *Interval) Dim() int { return iv.dim }

// Span returns the time span [t0, t1].
func (iv *Interval) Span() (t0, t1 float64) { return iv.t0, iv.t1 }

// LevyArea reports whether the Interval tracks space-time Lévy area.
func (iv *Interval) LevyArea() bool { return iv.levy }

// CacheSize returns the capacity of the LRU cache, in nodes.
func (iv *Interval) CacheSize() int { return iv.cacheSize }

// Stats returns counters of the work done so far.
func (iv *Interval) Stats() IntervalStats {
	st := iv.stats
	st.Nodes = len(iv.nodes)
	st.Cached = iv.cached
	st.Allocated = len(iv.blocks)
	return st
}

// Plan prepares the Interval for queries over the grid ts (strictly increasing, finite,
// inside the span, at least two times): it lays out a balanced tree whose leaves are
// exactly the intervals [ts[k], ts[k+1]] (a node spanning grid indices [i, j] with
// j−i ≥ 2 is split at ts[(i+j)/2]), so that a forward sweep of N steps costs N−1
// splits, a reverse sweep about as many again, and a random step O(log N). The tree is
// laid out lazily, as queries reach it; values are never computed ahead of queries.
// Queries off the grid remain valid and exact.
//
// Plan may be called only before the first non-empty query (it returns
// ErrPlanAfterQuery afterwards, so answers already given can never change); calling it
// again before any query replaces the previous plan. ts is copied.
func (iv *Interval) Plan(ts []float64) error {
	return iv.PlanGrid(Grid{Ts: ts})
}

// PlanGrid is Plan for the grid g (Steps nil: one step per interval of Ts), in memory
// proportional to len(g.Ts) rather than to the number of steps; grid time k is
// g.Time(i, j) for the j-th step of interval i. Solvers plan with it.
func (iv *Interval) PlanGrid(g Grid) error {
	iv.use.Enter("*brownian.Interval")
	defer iv.use.Exit()
	if iv.queried {
		return ErrPlanAfterQuery
	}
	if err := g.validate(iv.t0, iv.t1); err != nil {
		return err
	}
	pl := newPlan(g)
	steps := pl.steps()
	if steps > maxNodes/2 {
		return fmt.Errorf("brownian: Plan: %d steps is too many (at most %d)", steps, maxNodes/2)
	}
	ts := g.Ts
	// Reset the structure to the root alone (no values exist before the first query).
	root := iv.nodes[0]
	root.left, root.lo, root.hi = -1, -1, -1
	if want := 2*steps + 6; cap(iv.nodes) < want {
		iv.nodes = make([]node, 0, want)
	}
	iv.nodes = append(iv.nodes[:0], root)
	iv.last, iv.walked = 0, -1
	iv.plan = pl
	n := int32(0)
	if first := ts[0]; first > iv.t0 {
		iv.split(n, first)
		n = iv.nodes[n].left + 1
	}
	if lastT := ts[len(ts)-1]; lastT < iv.t1 {
		iv.split(n, lastT)
		n = iv.nodes[n].left
	}
	iv.nodes[n].lo, iv.nodes[n].hi = 0, int32(steps)
	return nil
}

// Increment writes W(t) − W(s) for every path and channel into dst, path-major
// (dst[p*Dim()+c]). It needs t0 ≤ s ≤ t ≤ t1, finite, and len(dst) = Batch()·Dim();
// s = t writes zeros.
func (iv *Interval) Increment(dst []float64, s, t float64) error {
	iv.use.Enter("*brownian.Interval")
	defer iv.use.Exit()
	if err := checkQuery("Interval.Increment", iv.t0, iv.t1, iv.batch*iv.dim, len(dst), s, t); err != nil {
		return err
	}
	if s == t {
		clear(dst)
		return nil
	}
	if err := iv.cover(s, t); err != nil {
		return err
	}
	n := iv.batch * iv.dim
	for k, c := range iv.cov {
		v := iv.value(c)[:n]
		if k == 0 {
			copy(dst, v)
			continue
		}
		for i, x := range v {
			dst[i] += x
		}
	}
	return nil
}

// IncrementArea writes the increment W(t) − W(s) into dw and the space-time Lévy area
// H over [s, t] into area, both path-major of length Batch()·Dim(), with the same
// rules for s and t as Increment (s = t writes zeros). dw agrees bit-for-bit with what
// Increment returns for the same query. The Interval must have been made with
// WithLevyArea (ErrNoLevyArea otherwise).
//
// H over [s, t] is (1/h)∫_s^t (W(r) − W(s)) dr − (W(t) − W(s))/2 with h = t − s; it is
// N(0, h/12) and independent of the increment.
func (iv *Interval) IncrementArea(dw, area []float64, s, t float64) error {
	iv.use.Enter("*brownian.Interval")
	defer iv.use.Exit()
	if !iv.levy {
		return ErrNoLevyArea
	}
	n := iv.batch * iv.dim
	if err := checkQuery("Interval.IncrementArea", iv.t0, iv.t1, n, len(dw), s, t); err != nil {
		return err
	}
	if len(area) != n {
		return fmt.Errorf("brownian: Interval.IncrementArea: area has length %d, want batch×dim = %d", len(area), n)
	}
	if s == t {
		clear(dw)
		clear(area)
		return nil
	}
	if err := iv.cover(s, t); err != nil {
		return err
	}
	var lo, hi float64 // span of the accumulated part
	for k, c := range iv.cov {
		v := iv.value(c)
		a, b := iv.nodes[c].a, iv.nodes[c].b
		if k == 0 {
			copy(dw, v[:n])
			copy(area, v[n:])
			lo, hi = a, b
			continue
		}
		mergeArea(dw, area, v[:n], v[n:], hi-lo, b-a)
		hi = b
	}
	return nil
}

// mergeArea merges (w2, h2) over an interval of length l2 into (w1, h1) over the
// adjacent interval of length l1 on its left:
// W = W1 + W2, H = [l2(H2 + W1/2) + l1(H1 − W2/2)]/(l1 + l2).
func mergeArea(w1, h1, w2, h2 []float64, l1, l2 float64) {
	inv := 1 / (l1 + l2)
	c1, c2 := l1*inv, l2*inv
	h2 = h2[:len(w1)]
	w2 = w2[:len(w1)]
	h1 = h1[:len(w1)]
	for i, a := range w1 {
		b := w2[i]
		h1[i] = float64(c2*float64(h2[i]+0.5*a)) + float64(c1*float64(h1[i]-0.5*b))
		w1[i] = a + b
	}
}

// cover fills iv.cov with the maximal nodes contained in [s, t], left to right,
// splitting leaves as needed, and refreshes the LRU position of their ancestors.
func (iv *Interval) cover(s, t float64) error {
	iv.queried = true
	iv.cov = iv.cov[:0]
	n := iv.last
	for {
		nd := &iv.nodes[n]
		if nd.a <= s && t <= nd.b {
			break
		}
		n = nd.parent
	}
	if err := iv.collect(n, s, t); err != nil {
		return err
	}
	iv.last = iv.cov[len(iv.cov)-1]
	// Keep the ancestors of the query and their siblings warm in the LRU. A sweep
	// then finds the subtree it enters next (a sibling of an ancestor) still cached,
	// and pays exactly one split per internal node; on a random access a miss costs
	// one split per level below the nearest cached ancestor.
	if c := iv.cov[0]; iv.nodes[c].parent != iv.walked {
		iv.walked = iv.nodes[c].parent
		for p := iv.walked; p >= 0; c, p = p, iv.nodes[p].parent {
			sib := iv.nodes[p].left
			if sib == c {
				sib++
			}
			if iv.nodes[sib].blk >= 0 {
				iv.touch(sib)
			}
			if iv.nodes[p].blk >= 0 {
				iv.touch(p)
			}
		}
	}
	return nil
}

// collect appends the maximal nodes of the subtree at n contained in [s, t] ⊆ [a_n, b_n].
func (iv *Interval) collect(n int32, s, t float64) error {
	for {
		nd := &iv.nodes[n]
		if s == nd.a && t == nd.b {
			iv.cov = append(iv.cov, n)
			return nil
		}
		if nd.left < 0 {
			if len(iv.nodes) >= maxNodes {
				return fmt.Errorf("brownian: Interval: the tree has reached %d nodes; use a new Interval", len(iv.nodes))
			}
			iv.split(n, iv.splitPoint(n, s, t))
			nd = &iv.nodes[n]
		}
		l := nd.left
		u := iv.nodes[l].b
		switch {
		case t <= u:
			n = l
		case s >= u:
			n = l + 1
		default:
			if err := iv.collect(l, s, u); err != nil {
				return err
			}
			n, s = l+1, u
		}
	}
}

// dyadicRatio: a leaf more than this many times longer than a query inside one of its
// halves is split at its midpoint rather than at the query's ends.
const dyadicRatio = 8

// splitPoint chooses where to split leaf n for the query [s, t] ⊆ [a, b], [s, t] ≠ [a, b]:
// the plan's midpoint if the leaf spans several grid steps; else the leaf's midpoint
// if s and t lie in the same half and the leaf is more than dyadicRatio times longer
// than the query (dyadic descent: an unplanned sweep of N steps builds a tree of depth
// about log₂ N + dyadicRatio instead of a chain of depth N); else s if it is inside,
// else t.
func (iv *Interval) splitPoint(n int32, s, t float64) float64 {
	nd := &iv.nodes[n]
	if nd.lo >= 0 && nd.hi-nd.lo >= 2 {
		return iv.plan.at(int(nd.lo+nd.hi) / 2)
	}
	a, b := nd.a, nd.b
	m := a + 0.5*(b-a)
	if a < m && m < b && (t <= m || s >= m) && (b-a) > dyadicRatio*(t-s) {
		return m
	}
	if s > a {
		return s
	}
	return t
}

// split makes leaf n internal, with children [a, u] and [u, b] (a < u < b).
func (iv *Interval) split(n int32, u float64) {
	nd := iv.nodes[n]
	l := int32(len(iv.nodes))
	left := node{a: nd.a, b: u, seed: childSeed(nd.seed, 1), parent: n, left: -1, blk: -1, prev: -1, next: -1, lo: -1, hi: -1}
	right := node{a: u, b: nd.b, seed: childSeed(nd.seed, 2), parent: n, left: -1, blk: -1, prev: -1, next: -1, lo: -1, hi: -1}
	if nd.lo >= 0 && nd.hi-nd.lo >= 2 {
		if m := (nd.lo + nd.hi) / 2; u == iv.plan.at(int(m)) {
			left.lo, left.hi = nd.lo, m
			right.lo, right.hi = m, nd.hi
		}
	}
	iv.nodes = append(iv.nodes, left, right)
	iv.nodes[n].left = l
}

// value returns node n's value block (W, then H with Lévy area), computing it from the
// nearest cached ancestor if needed. The block is valid until the next call that may
// allocate (value, or any query).
func (iv *Interval) value(n int32) []float64 {
	if b := iv.nodes[n].blk; b >= 0 {
		iv.stats.Hits++
		iv.touch(n)
		return iv.blocks[b]
	}
	iv.stats.Misses++
	if n == 0 {
		blk := iv.alloc()
		nd := &iv.nodes[0]
		iv.sj.setRoot(nd.seed, nd.b-nd.a, iv.blocks[blk])
		iv.sj.exec()
		iv.stats.Roots++
		iv.insert(0, blk)
		iv.trim(0)
		return iv.blocks[blk]
	}
	p := iv.nodes[n].parent
	pv := iv.value(p)
	l := iv.nodes[p].left
	lb, rb := iv.nodes[l].blk, iv.nodes[l+1].blk
	if lb < 0 {
		lb = iv.alloc()
	}
	if rb < 0 {
		rb = iv.alloc()
	}
	pn := &iv.nodes[p]
	iv.sj.setSplit(pn.seed, pn.a, iv.nodes[l].b, pn.b, pv, iv.blocks[lb], iv.blocks[rb])
	iv.sj.exec()
	iv.stats.Splits++
	iv.insert(l, lb)
	iv.insert(l+1, rb)
	iv.trim(n)
	return iv.blocks[iv.nodes[n].blk]
}

// alloc returns the index of a free value block (contents arbitrary).
func (iv *Interval) alloc() int32 {
	if k := len(iv.free); k > 0 {
		b := iv.free[k-1]
		iv.free = iv.free[:k-1]
		return b
	}
	iv.blocks = append(iv.blocks, make([]float64, iv.blockLen))
	return int32(len(iv.blocks) - 1)
}

// insert caches block blk as node n's value at the front of the LRU (or, if n is
// already cached in blk, just moves it to the front).
func (iv *Interval) insert(n int32, blk int32) {
	nd := &iv.nodes[n]
	if nd.blk >= 0 {
		iv.touch(n)
		return
	}
	nd.blk = blk
	iv.clock++
	nd.stamp = iv.clock
	nd.prev = -1
	nd.next = iv.head
	if iv.head >= 0 {
		iv.nodes[iv.head].prev = n
	}
	iv.head = n
	if iv.tail < 0 {
		iv.tail = n
	}
	iv.cached++
}

// touch moves cached node n to the front of the LRU, unless it is already among the
// front half (fewer than cacheSize/2 nodes were put in front of it since it was last
// there), which makes refreshing a sweep's path nearly free and changes nothing that
// matters: it cannot be evicted before cacheSize/2 more insertions either way.
func (iv *Interval) touch(n int32) {
	nd := &iv.nodes[n]
	if iv.clock-nd.stamp < uint64(iv.cacheSize/2) || iv.head == n {
		return
	}
	iv.clock++
	nd.stamp = iv.clock
	// unlink (n is not the head, so prev ≥ 0)
	iv.nodes[nd.prev].next = nd.next
	if nd.next >= 0 {
		iv.nodes[nd.next].prev = nd.prev
	} else {
		iv.tail = nd.prev
	}
	nd.prev = -1
	nd.next = iv.head
	iv.nodes[iv.head].prev = n
	iv.head = n
}

// trim evicts least recently used values until the cache is within capacity, never
// evicting keep.
func (iv *Interval) trim(keep int32) {
	for iv.cached > iv.cacheSize {
		v := iv.tail
		if v == keep {
			v = iv.nodes[v].prev
			if v < 0 {
				return
			}
		}
		nd := &iv.nodes[v]
		if nd.prev >= 0 {
			iv.nodes[nd.prev].next = nd.next
		} else {
			iv.head = nd.next
		}
		if nd.next >= 0 {
			iv.nodes[nd.next].prev = nd.prev
		} else {
			iv.tail = nd.prev
		}
		iv.free = append(iv.free, nd.blk)
		nd.blk, nd.prev, nd.next = -1, -1, -1
		iv.cached--
	}
}

// splitJob computes a root value or the two children of a split, over chunks of paths.
type splitJob struct {
	iv     *Interval
	n      int // batch*dim: offset of H in a block
	per    int // paths per chunk
	chunks int
	root   bool
	seed   uint64
	pv     []float64
	lv, rv []float64
	// plain split: W_L = rl·W + sd·X
	rl, sd float64
	// Lévy area split
	k6, kappa, rl2, rr2, ca, cb, chr, chl float64
	// root: W = sw·Z, H = sh·Z
	sw, sh float64
}

func (j *splitJob) init(iv *Interval) {
	j.iv = iv
	j.n = iv.batch * iv.dim
	width := iv.dim
	if iv.levy {
		width *= 2
	}
	j.per, j.chunks = chunking(iv.batch, width)
}

func (j *splitJob) setRoot(seed uint64, h float64, dst []float64) {
	j.root = true
	// The root's own value must not reuse the normals of its split, which are keyed
	// by the root's seed: key it apart.
	j.seed = mix64(seed ^ domainRootValue)
	j.lv = dst
	j.sw = math.Sqrt(h)
	j.sh = math.Sqrt(h / 12)
}

// setSplit prepares the split of a node [a, b] with the given seed and value pv at u.
func (j *splitJob) setSplit(seed uint64, a, u, b float64, pv, lv, rv []float64) {
	j.root = false
	j.seed = seed
	j.pv, j.lv, j.rv = pv, lv, rv
	h := b - a
	hl, hr := u-a, b-u
	rl, rr := hl/h, hr/h
	j.rl = rl
	if !j.iv.levy {
		j.sd = math.Sqrt(hl * (hr / h))
		return
	}
	// v = ½√(h_l h_r/(h_l³ + h_r³)), written in ratios to avoid underflow.
	v := 0.5 * math.Sqrt(rl*rr/(rl*rl*rl+rr*rr*rr)) / math.Sqrt(h)
	ca := v * hl * rl // a = v h_l²/h
	cb := v * hr * rr // b = v h_r²/h
	c := v / math.Sqrt(3)
	j.k6 = 6 * rl * rr
	j.kappa = 2 * (ca*rl + cb*rr) // κ = 2(a h_l + b h_r)/h
	j.rl2, j.rr2 = rl*rl, rr*rr
	j.ca, j.cb = ca, cb
	j.chr, j.chl = c*hr, c*hl
}

func (j *splitJob) exec() {
	if j.chunks == 1 {
		j.doChunk(0, j.iv.g)
		return
	}
	j.iv.job.run(j, j.chunks, j.iv.g)
}

func (j *splitJob) doChunk(c int, g *gauss) {
	iv := j.iv
	d := iv.dim
	p0 := c * j.per
	p1 := min(p0+j.per, iv.batch)
	// Sub-blocks of paths: first draw their normals into g.buf (the generator's calls
	// would otherwise spill the arithmetic's registers), then apply the formulas.
	per := 1 // normals per value
	if iv.levy {
		per = 2
	}
	sub := max(1, len(g.buf)/(per*d))
	n := j.n
	for q0 := p0; q0 < p1; q0 += sub {
		q1 := min(q0+sub, p1)
		x := g.normals(j.seed, iv.ph[q0:q1], per*d)
		lo, hi := q0*d, q1*d
		switch {
		case j.root && !iv.levy:
			w := j.lv[lo:hi]
			x = x[:len(w)]
			sw := j.sw
			for i := range w {
				w[i] = sw * x[i]
			}
		case j.root:
			w := j.lv[lo:hi]
			h := j.lv[n+lo : n+hi]
			h = h[:len(w)]
			x = x[:2*len(w)]
			sw, sh := j.sw, j.sh
			for i := range w {
				w[i] = sw * x[2*i]
				h[i] = sh * x[2*i+1]
			}
		case !iv.levy:
			pw := j.pv[lo:hi]
			lw := j.lv[lo:hi]
			rw := j.rv[lo:hi]
			lw, rw, x = lw[:len(pw)], rw[:len(pw)], x[:len(pw)]
			rl, sd := j.rl, j.sd
			for i, w := range pw {
				wl := float64(rl*w) + float64(sd*x[i])
				lw[i] = wl
				rw[i] = w - wl
			}
		default:
			pw, ph := j.pv[lo:hi], j.pv[n+lo:n+hi]
			lw, lh := j.lv[lo:hi], j.lv[n+lo:n+hi]
			rw, rh := j.rv[lo:hi], j.rv[n+lo:n+hi]
			m := len(pw)
			ph, lw, lh, rw, rh, x = ph[:m], lw[:m], lh[:m], rw[:m], rh[:m], x[:2*m]
			rl, k6, kappa := j.rl, j.k6, j.kappa
			rl2, rr2, ca, cb, chr, chl := j.rl2, j.rr2, j.ca, j.cb, j.chr, j.chl
			for i, w := range pw {
				x1, x2 := x[2*i], x[2*i+1]
				a := ph[i]
				wl := float64(rl*w) + float64(k6*a) + float64(kappa*x1)
				lw[i] = wl
				rw[i] = w - wl
				lh[i] = float64(rl2*a) - float64(ca*x1) + float64(chr*x2)
				rh[i] = float64(rr2*a) - float64(cb*x1) - float64(chl*x2)
			}
		}
	}
}
