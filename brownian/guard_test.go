package brownian

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
	const batch, dim = 8, 3
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	t.Run("Interval.Increment", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 1)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		checkGuard(t, "*brownian.Interval", &iv.use, func() {
			k := n.Add(1)
			must(iv.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
	t.Run("Interval.IncrementArea", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 2, WithLevyArea())
		must(err)
		dw, area := make([]float64, batch*dim), make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		checkGuard(t, "*brownian.Interval", &iv.use, func() {
			k := n.Add(1)
			must(iv.IncrementArea(dw, area, float64(k%89)/100, float64(k%89+3)/100))
		})
	})
	t.Run("Interval.Plan", func(t *testing.T) {
		iv, err := NewInterval(0, 1, batch, dim, 3)
		must(err)
		ts := []float64{0, 0.25, 0.5, 1}
		checkGuard(t, "*brownian.Interval", &iv.use, func() { must(iv.Plan(ts)) })
		iv.use.enter("*brownian.Interval")
		msg := panicOf(func() { _ = iv.PlanGrid(Grid{Ts: ts}) })
		iv.use.exit()
		if !strings.Contains(msg, guardMsg) {
			t.Fatalf("PlanGrid while in use: panic %q", msg)
		}
	})
	t.Run("VirtualTree.Increment", func(t *testing.T) {
		vt, err := NewVirtualTree(0, 1, batch, dim, 4, 1e-3)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		checkGuard(t, "*brownian.VirtualTree", &vt.use, func() {
			k := n.Add(1)
			must(vt.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
	t.Run("Path.Increment", func(t *testing.T) {
		bp, err := NewPath(0, 1, batch, dim, 5)
		must(err)
		dst := make([]float64, batch*dim)
		var n atomic.Int64 // the calls race before the guard
		checkGuard(t, "*brownian.Path", &bp.use, func() {
			k := n.Add(1)
			must(bp.Increment(dst, float64(k%97)/100, float64(k%97+1)/100))
		})
	})
}
