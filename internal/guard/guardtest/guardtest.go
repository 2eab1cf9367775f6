// Package guardtest checks a type's concurrency guard (package guard) from its tests.
package guardtest

import (
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosde/gosde/internal/guard"
)

// PanicOf runs f and returns the message it panicked with ("" if it did not panic).
func PanicOf(f func()) (msg string) {
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
				if msg := PanicOf(f); msg != "" {
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

// Check checks the concurrency guard of a value whose guarded method is call and
// whose flag is u: a call while the flag is held (as by another goroutine inside a
// method) panics naming typ; sequential calls never do, from one goroutine or handed
// between several; and two goroutines calling at once trip it.
func Check(t *testing.T, typ string, u *guard.InUse, call func()) {
	t.Helper()
	for range 100 {
		if msg := PanicOf(call); msg != "" {
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

	u.Enter(typ) // as if another goroutine were inside a method
	msg := PanicOf(call)
	u.Exit()
	if !strings.Contains(msg, typ) || !strings.Contains(msg, guard.Message) {
		t.Fatalf("%s: call while in use: panic %q, want one naming %s and saying %q", typ, msg, typ, guard.Message)
	}
	if msg := PanicOf(call); msg != "" {
		t.Fatalf("%s: call after the other user left panicked: %s", typ, msg)
	}

	msg = hammer(t, call)
	if !strings.Contains(msg, typ) || !strings.Contains(msg, guard.Message) {
		t.Fatalf("%s: two goroutines calling at once: panic %q, want one naming %s and saying %q", typ, msg, typ, guard.Message)
	}
	// The goroutine that panicked never touched the value, and the one inside finished
	// its call and cleared the flag: the value is still usable.
	if msg := PanicOf(call); msg != "" {
		t.Fatalf("%s: call after the hammer panicked: %s", typ, msg)
	}
}
