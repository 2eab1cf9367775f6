package neuralsde

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestPoolExactlyOnce runs many calls from several goroutines at once, each checking that
// every block ran exactly once and that no more goroutines than allowed took part.
func TestPoolExactlyOnce(t *testing.T) {
	old := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(old)
	var wg sync.WaitGroup
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var j job
			counts := make([]atomic.Int32, 64)
			var active, peak atomic.Int32
			j.fn = func(b int) {
				a := active.Add(1)
				for {
					p := peak.Load()
					if a <= p || peak.CompareAndSwap(p, a) {
						break
					}
				}
				counts[b].Add(1)
				for i := 0; i < 2000; i++ { // a little work
					_ = i * i
				}
				active.Add(-1)
			}
			for call := range 300 {
				n := 1 + (call*7+c)%64
				workers := 1 + call%3
				peak.Store(0)
				helpers.run(&j, n, workers)
				for b := range counts {
					want := int32(0)
					if b < n {
						want = 1
					}
					if got := counts[b].Swap(0); got != want {
						t.Errorf("caller %d call %d: block %d ran %d times", c, call, b, got)
						return
					}
				}
				if p := peak.Load(); int(p) > workers {
					t.Errorf("caller %d call %d: %d blocks at once with %d workers", c, call, p, workers)
					return
				}
			}
		}()
	}
	wg.Wait()
}
