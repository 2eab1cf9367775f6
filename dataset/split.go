package dataset

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
)

// Subset returns the paths idx of p, in that order (an index may repeat), as a new
// Paths with its own copies of Times, Channels and Values. It panics on an index out
// of range.
func Subset(p *Paths, idx []int) *Paths {
	return SubsetInto(nil, p, idx)
}

// SubsetInto is Subset writing into dst, reusing dst's storage when it is large enough
// (for minibatches drawn every step); dst may be nil. It returns dst (or a new Paths).
func SubsetInto(dst *Paths, p *Paths, idx []int) *Paths {
	if dst == nil {
		dst = new(Paths)
	}
	w := p.T() * p.C()
	dst.Times = append(dst.Times[:0], p.Times...)
	dst.Channels = append(dst.Channels[:0], p.Channels...)
	dst.N = len(idx)
	dst.Values = slices.Grow(dst.Values[:0], len(idx)*w)[:len(idx)*w]
	for i, n := range idx {
		if n < 0 || n >= p.N {
			panic(fmt.Sprintf("dataset: path index %d out of range [0, %d)", n, p.N))
		}
		copy(dst.Values[i*w:(i+1)*w], p.Values[n*w:(n+1)*w])
	}
	return dst
}

// Split divides p's paths at random into a, with round(frac·N) paths, and b, with the
// rest; frac is clamped to [0, 1]. The choice is a seeded permutation (math/rand/v2
// PCG), and each part keeps the paths in their original relative order. Both parts
// are copies.
func Split(p *Paths, frac float64, seed uint64) (a, b *Paths) {
	if math.IsNaN(frac) {
		frac = 0
	}
	frac = min(max(frac, 0), 1)
	k := int(math.Round(frac * float64(p.N)))
	perm := rand.New(rand.NewPCG(seed, 0x73706c6974)).Perm(p.N) // "split"
	ia, ib := slices.Clone(perm[:k]), slices.Clone(perm[k:])
	slices.Sort(ia)
	slices.Sort(ib)
	return Subset(p, ia), Subset(p, ib)
}

// SplitBlocks divides paths cut from longer series by time, so that no path of b
// overlaps a path of a: origins[n] places path n in its series (CSVData.Origins). For
// each series, with its K paths ordered by start, the boundary is the start of the path
// after the first round(frac·K) (frac clamped to [0, 1]); b holds the paths that start
// at or after the boundary, a those that end before it, and the paths that straddle it
// (windows that overlap) are dropped, their number returned. The paths of different
// series never overlap, whatever their times. Each part keeps the paths in their
// original order; both are copies.
func SplitBlocks(p *Paths, origins []Origin, frac float64) (a, b *Paths, dropped int, err error) {
	if len(origins) != p.N {
		return nil, nil, 0, fmt.Errorf("dataset: split: %d origins for %d paths", len(origins), p.N)
	}
	if math.IsNaN(frac) {
		frac = 0
	}
	frac = min(max(frac, 0), 1)
	bySeries := map[string][]int{}
	for n, o := range origins {
		bySeries[o.Series] = append(bySeries[o.Series], n)
	}
	var ia, ib []int
	for _, idx := range bySeries {
		slices.SortStableFunc(idx, func(i, j int) int { return cmp.Compare(origins[i].Start, origins[j].Start) })
		k := int(math.Round(frac * float64(len(idx))))
		if k == len(idx) {
			ia = append(ia, idx...)
			continue
		}
		boundary := origins[idx[k]].Start
		for _, n := range idx {
			switch o := origins[n]; {
			case o.Start >= boundary:
				ib = append(ib, n)
			case o.End < boundary:
				ia = append(ia, n)
			default:
				dropped++
			}
		}
	}
	slices.Sort(ia)
	slices.Sort(ib)
	return Subset(p, ia), Subset(p, ib), dropped, nil
}

// Sampler draws random minibatches of paths from a data set, seeded (math/rand/v2
// PCG) and so reproducible.
//
// With replacement, each batch is Size independent uniform draws. Without replacement,
// the sampler walks through a shuffled order of all paths, Size at a time; when fewer
// than Size are left it reshuffles and starts a new epoch (the few left over are
// skipped this time round), so a batch never repeats a path and every path is equally
// likely in every batch. This is the infinite shuffled loader of the torchsde
// examples.
type Sampler struct {
	p       *Paths
	size    int
	replace bool
	rng     *rand.Rand
	perm    []int
	pos     int
	idx     []int
	epoch   int
}

// NewSampler returns a sampler of batches of size paths of p. Without replacement,
// size must not exceed p.N.
func NewSampler(p *Paths, size int, replace bool, seed uint64) (*Sampler, error) {
	if size < 1 {
		return nil, fmt.Errorf("dataset: sampler: batch size %d < 1", size)
	}
	if p.N < 1 {
		return nil, fmt.Errorf("dataset: sampler: no paths to sample")
	}
	if !replace && size > p.N {
		return nil, fmt.Errorf("dataset: sampler: batch of %d without replacement from %d paths", size, p.N)
	}
	s := &Sampler{
		p: p, size: size, replace: replace,
		rng: rand.New(rand.NewPCG(seed, 0x73616d706c65)), // "sample"
		idx: make([]int, size),
	}
	if !replace {
		s.perm = make([]int, p.N)
		for i := range s.perm {
			s.perm[i] = i
		}
		s.pos = p.N // shuffle on first use
		s.epoch = -1
	}
	return s, nil
}

// Size is the batch size.
func (s *Sampler) Size() int { return s.size }

// Epoch is the number of completed passes through the shuffled order (without
// replacement; always 0 with replacement).
func (s *Sampler) Epoch() int { return max(s.epoch, 0) }

// NextIndices draws the next batch and returns the indices of its paths in p. The
// slice is reused by the next call.
func (s *Sampler) NextIndices() []int {
	if s.replace {
		for i := range s.idx {
			s.idx[i] = s.rng.IntN(s.p.N)
		}
		return s.idx
	}
	if s.pos+s.size > len(s.perm) {
		s.rng.Shuffle(len(s.perm), func(i, j int) { s.perm[i], s.perm[j] = s.perm[j], s.perm[i] })
		s.pos = 0
		s.epoch++
	}
	copy(s.idx, s.perm[s.pos:s.pos+s.size])
	s.pos += s.size
	return s.idx
}

// Next draws the next batch and copies its paths into dst (reusing its storage; dst
// may be nil), returning it.
func (s *Sampler) Next(dst *Paths) *Paths {
	return SubsetInto(dst, s.p, s.NextIndices())
}

// MinibatchIndices draws one minibatch of size indices of paths in [0, n), from seed
// alone (math/rand/v2 PCG seeded with (seed, 0)): a model that derives seed from its
// own seed and the step number draws the same batch at a step however it got there,
// which is what makes a resumed run match an uninterrupted one.
//
// When n ≥ size the indices are distinct and uniform (the first size places of a
// partial Fisher–Yates shuffle of 0, …, n−1); when n < size they are size independent
// uniform draws, with replacement.
//
// dst is scratch: its storage is reused when its capacity is at least max(n, size),
// else a new slice is made. The result is a prefix of that storage (keep it, and pass
// it back as dst, to reuse it). It panics if n < 1 or size < 0.
func MinibatchIndices(dst []int, n, size int, seed uint64) []int {
	if n < 1 || size < 0 {
		panic(fmt.Sprintf("dataset: MinibatchIndices: %d of %d paths", size, n))
	}
	rng := rand.New(rand.NewPCG(seed, 0))
	if cap(dst) < max(n, size) {
		dst = make([]int, max(n, size))
	}
	if n < size {
		idx := dst[:size]
		for j := range idx {
			idx[j] = rng.IntN(n)
		}
		return idx
	}
	p := dst[:n]
	for i := range p {
		p[i] = i
	}
	for j := range size {
		r := j + rng.IntN(n-j)
		p[j], p[r] = p[r], p[j]
	}
	return p[:size]
}
