package solver

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const guardMsg = "not safe for concurrent use: use one per goroutine"

// panicOf runs f and returns the message it panicked with ("" if it did not panic).
func panicOf(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			s, ok := r.(string)
			if !ok {
				panic(r)
			}
			msg = s
		}
	}()
	f()
	return ""
}

// hammer calls f from two goroutines at once until one of the calls panics with the
// concurrency guard's message, for at most 5 s, and returns that message ("" if the
// guard never fired). Any other panic is re-raised.
func hammer(t *testing.T, f func()) string {
	t.Helper()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0))))
	var (
		stop atomic.Bool
		got  atomic.Pointer[string]
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(5 * time.Second)
	for range 2 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				if msg := panicOf(f); msg != "" {
					got.CompareAndSwap(nil, &msg)
					stop.Store(true)
				}
				if i%64 == 0 && time.Now().After(deadline) {
					stop.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if p := got.Load(); p != nil {
		return *p
	}
	return ""
}

// checkGuard checks the concurrency guard of a value whose guarded method is call and
// whose flag is u: a call while the flag is held (as by another goroutine inside a
// method) panics naming typ; sequential calls never do, from one goroutine or handed
// between several; and two goroutines calling at once trip it.
func checkGuard(t *testing.T, typ string, u *inUse, call func()) {
	t.Helper()
	for range 100 {
		if msg := panicOf(call); msg != "" {
			t.Fatalf("%s: sequential call panicked: %s", typ, msg)
		}
	}
	done := make(chan struct{})
	for range 4 { // handed between goroutines, one at a time
		go func() {
			defer func() { done <- struct{}{} }()
			for range 25 {
				call()
			}
		}()
		<-done
	}

	u.enter(typ) // as if another goroutine were inside a method
	msg := panicOf(call)
	u.exit()
	if !strings.Contains(msg, typ) || !strings.Contains(msg, guardMsg) {
		t.Fatalf("%s: call while in use: panic %q, want one naming %s and saying %q", typ, msg, typ, guardMsg)
	}
	if msg := panicOf(call); msg != "" {
		t.Fatalf("%s: call after the other user left panicked: %s", typ, msg)
	}

	msg = hammer(t, call)
	if !strings.Contains(msg, typ) || !strings.Contains(msg, guardMsg) {
		t.Fatalf("%s: two goroutines calling at once: panic %q, want one naming %s and saying %q", typ, msg, typ, guardMsg)
	}
	// The goroutine that panicked never touched the value, and the one inside finished
	// its call and cleared the flag: the value is still usable.
	if msg := panicOf(call); msg != "" {
		t.Fatalf("%s: call after the hammer panicked: %s", typ, msg)
	}
}

func TestConcurrentUseIsDetected(t *testing.T) {
	sde := newTestSDE[float64](2, 2, General, 1)
	y0 := []float64{0.1, 0.2, 0.3, 0.4}
	ts := []float64{0, 0.5, 1}
	gradYs := randVec[float64](len(ts)*len(y0), 1, 2)
	for _, adj := range []Adjoint{Backprop, Reversible} {
		t.Run(adj.String(), func(t *testing.T) {
			sol, err := Solve(sde, y0, ts, Options{Method: ReversibleHeun, Adjoint: adj, Dt: 0.1, Motion: &hashMotion{batch: 2, dim: 2, t1: 1}})
			if err != nil {
				t.Fatal(err)
			}
			checkGuard(t, "*solver.Solution", &sol.use, func() {
				if _, err := sol.Backward(gradYs); err != nil {
					panic(err)
				}
			})
		})
	}
}
