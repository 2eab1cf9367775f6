// Package guard detects overlapping calls on values that are not safe for concurrent
// use, the way Go's map write detector does, so that misuse fails loudly instead of
// corrupting a cache or a workspace.
package guard

import "sync/atomic"

// Message is what every guard panic says, after the type's name.
const Message = "not safe for concurrent use: use one per goroutine"

// InUse is a value's busy flag. Enter sets it, panicking if it is already set (by
// another goroutine inside a method of the same value), and Exit clears it. It costs
// one atomic compare-and-swap and one atomic store per call and is race-free itself. It
// detects overlapping calls, not every unsynchronised use: two calls that interleave
// without overlapping go unnoticed (and are harmless).
//
// A concurrent call panics rather than returning an error: it is a programming error,
// the other goroutine may already have left the value half-updated, and an error would
// invite a retry that cannot be made safe.
type InUse struct{ busy atomic.Bool }

// Enter marks the value busy; typ names it in the panic, e.g. "*brownian.Interval".
func (u *InUse) Enter(typ string) {
	if !u.busy.CompareAndSwap(false, true) {
		panic("gosde: concurrent use of " + typ + ", which is " + Message)
	}
}

// Exit marks the value free again; call it with defer, so that a method that panics
// for another reason leaves the value usable.
func (u *InUse) Exit() { u.busy.Store(false) }
