package neuralsde

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// job is a batch of independent blocks fn(0), …, fn(n−1), run by the calling goroutine
// and whichever pool helpers join in time.
//
// Blocks are claimed by compare-and-swap on state = epoch<<40 | n<<20 | next, so a helper that
// wakes late (after the call it was asked to help with has returned, which on virtual
// machines with halted vCPUs takes tens of microseconds) cannot claim anything from a
// finished call, and the caller never waits for a helper that has not started: it
// waits only for blocks already claimed by helpers.
type job struct {
	fn    func(block int)
	state atomic.Uint64
	done  atomic.Uint64
	slots atomic.Int32 // helpers that may still join the current call
	mu    sync.Mutex
	cond  sync.Cond
}

const (
	idxBits  = 20
	idxMask  = 1<<idxBits - 1
	maxJobs  = idxMask // blocks per call
	epochSh  = 2 * idxBits
	epochMsk = 1<<(64-epochSh) - 1
)

type wake struct {
	j     *job
	epoch uint64
}

// claim returns the next block of epoch and the job's block count, or false when there
// is none.
func (j *job) claim(epoch uint64) (b int, n uint64, ok bool) {
	for {
		s := j.state.Load()
		n = s >> idxBits & idxMask
		if s>>epochSh != epoch || s&idxMask >= n {
			return 0, 0, false
		}
		if j.state.CompareAndSwap(s, s+1) {
			return int(s & idxMask), n, true
		}
	}
}

// join takes a helper slot of the current call, if any is left.
func (j *job) join() bool {
	for {
		n := j.slots.Load()
		if n <= 0 {
			return false
		}
		if j.slots.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

func (j *job) work(epoch uint64) {
	for {
		b, n, ok := j.claim(epoch)
		if !ok {
			return
		}
		j.fn(b)
		if j.done.Add(1) == n {
			j.mu.Lock()
			j.cond.Broadcast()
			j.mu.Unlock()
		}
	}
}

// pool is a process-wide set of helper goroutines, started lazily (one fewer than the
// largest parallelism asked for) and kept for the life of the process. A helper is woken
// through the wakes channel, or finds the job in latest while spinning after its previous
// one; either way it must take one of the call's slots (workers − 1 of them) first.
// Dispatching a job allocates nothing.
type pool struct {
	mu       sync.Mutex
	started  int
	wakes    chan wake
	latest   atomic.Pointer[job]
	spinning atomic.Int32
}

var helpers = &pool{wakes: make(chan wake, 1024)}

func (p *pool) ensure(n int) {
	p.mu.Lock()
	for p.started < n {
		p.started++
		go func() {
			for w := range p.wakes {
				if w.j.join() {
					w.j.work(w.epoch)
				}
				p.spin()
			}
		}()
	}
	p.mu.Unlock()
}

// run executes j.fn(0), …, j.fn(n−1) on up to workers goroutines (the caller included;
// workers ≤ 0 means GOMAXPROCS) and returns when all are done. One job must not be run
// by two callers at once.
func (p *pool) run(j *job, n, workers int) {
	if n <= 0 {
		return
	}
	if n > maxJobs {
		panic("neuralsde: too many blocks in one call")
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if j.cond.L == nil {
		j.cond.L = &j.mu
	}
	epoch := (j.state.Load()>>epochSh + 1) & epochMsk
	h := min(workers, n) - 1
	j.done.Store(0)
	j.slots.Store(int32(h))
	j.state.Store(epoch<<epochSh | uint64(n)<<idxBits)
	if h > 0 {
		p.latest.Store(j)
		p.ensure(h)
		for range h - int(p.spinning.Load()) {
			select {
			case p.wakes <- wake{j, epoch}:
			default:
			}
		}
	}
	j.work(epoch)
	if j.done.Load() != uint64(n) {
		j.mu.Lock()
		for j.done.Load() != uint64(n) {
			j.cond.Wait()
		}
		j.mu.Unlock()
	}
	if h > 0 {
		p.latest.CompareAndSwap(j, nil)
	}
}

// spinFor is how long a helper keeps polling for a new job after finishing one before
// it parks. Solver loops call Eval/VJP back to back; waking a parked thread costs from a
// few microseconds on bare metal to tens of microseconds on virtual machines, comparable
// to a whole evaluation at batch 1024.
const spinFor = 50 * time.Microsecond

// spin polls for a new job for up to spinFor before the helper parks again.
func (p *pool) spin() {
	p.spinning.Add(1)
	defer p.spinning.Add(-1)
	start := time.Now()
	for i := 0; ; i++ {
		if j := p.latest.Load(); j != nil {
			s := j.state.Load()
			if s&idxMask < s>>idxBits&idxMask && j.join() {
				j.work(s >> epochSh)
				start = time.Now()
				continue
			}
		}
		if i%64 == 0 && time.Since(start) > spinFor {
			return
		}
	}
}
