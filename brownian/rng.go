package brownian

import (
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Counter-based normals.
//
// Every standard normal this package draws is a pure function of a 64-bit key (which
// node of which sampler, which path) and its position in a short, fixed sequence (the
// channel, and for Lévy area which of the two normals). The key seeds a math/rand/v2
// PCG (seeding costs two stores) and the normals are drawn with NormFloat64 in a fixed
// order. Because no generator state is carried from one key to the next, the values of
// path p never depend on the batch size, on how paths are split between goroutines or
// on GOMAXPROCS.

const golden = 0x9e3779b97f4a7c15 // 2^64 / φ, the splitmix64 increment

// mix64 is the splitmix64 finaliser (Stafford's variant 13): a bijection of uint64
// with full avalanche.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Domain-separation constants, so that seeds derived for different purposes from the
// same user seed never coincide by construction.
const (
	domainInterval  = 0x243f6a8885a308d3
	domainVirtual   = 0x13198a2e03707344
	domainPath      = 0xa4093822299f31d0
	domainPathHash  = 0x082efa98ec4e6c89
	domainRootValue = 0x452821e638d01377
)

// rootSeed derives the seed of a sampler's root from the user's seed.
func rootSeed(seed, domain uint64) uint64 { return mix64(mix64(seed^domain) + golden) }

// childSeed derives the seed of child k (1 = left, 2 = right) of a tree node.
func childSeed(parent uint64, k uint64) uint64 { return mix64(parent + k*golden) }

// pathHash is the per-path half of a normal's key; samplers precompute it per path.
func pathHash(p int) uint64 { return mix64(uint64(p)*golden + domainPathHash) }

// pathHashes returns pathHash(p) for p in [0, batch).
func pathHashes(batch int) []uint64 {
	h := make([]uint64, batch)
	for p := range h {
		h[p] = pathHash(p)
	}
	return h
}

// gauss draws the normals of one (node, path) key at a time. One per goroutine.
type gauss struct {
	pcg rand.PCG
	r   *rand.Rand
	buf []float64 // scratch for normals(), gaussBuf long
}

// gaussBuf is the length of a gauss's scratch buffer (fits in L1 with the data it
// feeds).
const gaussBuf = 768

func newGauss() *gauss {
	g := &gauss{buf: make([]float64, gaussBuf)}
	g.r = rand.New(&g.pcg)
	return g
}

// normals draws, for each path hash in phs, the first k normals of (nodeSeed, path)
// into g.buf, path after path, and returns the filled part. Callers keep len(phs)·k
// within gaussBuf unless a single path needs more (then the buffer grows once).
func (g *gauss) normals(nodeSeed uint64, phs []uint64, k int) []float64 {
	if len(phs)*k > len(g.buf) {
		g.buf = make([]float64, len(phs)*k)
	}
	x := g.buf[:len(phs)*k]
	r := g.r
	for p, h := range phs {
		g.reset(nodeSeed, h)
		row := x[p*k : p*k+k]
		for i := range row {
			row[i] = r.NormFloat64()
		}
	}
	return x
}

// reset positions the generator at the start of the sequence of (node seed, path hash).
func (g *gauss) reset(nodeSeed, ph uint64) {
	g.pcg.Seed(mix64(nodeSeed^ph), nodeSeed+ph)
}

// Parallel execution over fixed chunks of paths.
//
// Work on a batch of at least parallelValues values is split into chunks of about
// chunkValues values (whole paths) and the chunks are shared between the calling
// goroutine and up to GOMAXPROCS−1 helpers of a package-wide pool of goroutines, started
// when first needed and parked on a channel when idle. A job waits
// for every helper it handed itself to, so a helper busy with another sampler's job
// delays it by at most the rest of that job. A chunk's results depend only on its
// paths, so the outcome is bit-identical whatever the number of helpers.

const (
	parallelValues = 16384
	chunkValues    = 4096
)

// chunker is a unit of parallel work: it processes chunk c with generator g.
type chunker interface {
	doChunk(c int, g *gauss)
}

// parJob runs a chunker over its chunks. A sampler owns one parJob and reuses it, so
// running a job allocates nothing.
type parJob struct {
	work   chunker
	chunks int64
	next   atomic.Int64
	wg     sync.WaitGroup
}

var pool struct {
	mu      sync.Mutex
	helpers atomic.Int64 // helpers started so far (they never stop)
	ch      chan *parJob
}

// poolHelpers makes sure at least n helpers are running, and returns the number running.
func poolHelpers(n int) int {
	if h := int(pool.helpers.Load()); h >= n {
		return h
	}
	pool.mu.Lock()
	defer pool.mu.Unlock()
	if pool.ch == nil {
		// Buffered, so that a helper still on its way back from the previous job picks
		// the next one up a moment later instead of missing it.
		pool.ch = make(chan *parJob, 64)
	}
	for int(pool.helpers.Load()) < n {
		go poolHelper(pool.ch)
		pool.helpers.Add(1)
	}
	return n
}

func poolHelper(ch chan *parJob) {
	g := newGauss()
	for j := range ch {
		j.drain(g)
		j.wg.Done()
	}
}

func (j *parJob) drain(g *gauss) {
	for {
		c := j.next.Add(1) - 1
		if c >= j.chunks {
			return
		}
		j.work.doChunk(int(c), g)
	}
}

// run processes chunks [0, chunks) of work, on the calling goroutine (with generator g)
// and on whichever pool helpers are idle, and returns when all are done.
func (j *parJob) run(work chunker, chunks int, g *gauss) {
	j.work = work
	j.chunks = int64(chunks)
	j.next.Store(0)
	if chunks > 1 {
		want := min(chunks-1, runtime.GOMAXPROCS(0)-1)
		if want > 0 {
			poolHelpers(want)
		}
		for range want {
			j.wg.Add(1)
			select {
			case pool.ch <- j:
			default:
				j.wg.Done() // helpers all busy: do the work ourselves
			}
		}
	}
	j.drain(g)
	j.wg.Wait()
	j.work = nil
}

// chunking returns the number of paths per chunk and the number of chunks for a batch
// of batch paths of width values each (serial work is a single chunk).
func chunking(batch, width int) (per, chunks int) {
	if batch*width < parallelValues {
		return batch, 1
	}
	per = max(1, chunkValues/width)
	return per, (batch + per - 1) / per
}
