package neuralsde

import "sync/atomic"

// inUse detects concurrent use of a value that is not safe for it, the way Go's map
// write detector does: enter sets the flag (panicking if it is already set, by another
// goroutine inside a method of the same value) and exit clears it. It costs one atomic
// compare-and-swap and one atomic store per call, and is race-free itself. It detects
// overlapping calls, not every unsynchronised use: two calls that merely interleave
// without overlapping go unnoticed (and are harmless).
//
// A concurrent call panics rather than returning an error: it is a programming error,
// the other goroutine may already have left the value half-updated, and an error would
// invite a retry that cannot be made safe.
type inUse struct{ busy atomic.Bool }

func (u *inUse) enter(typ string) {
	if !u.busy.CompareAndSwap(false, true) {
		panic("neuralsde: concurrent use of " + typ + ", which is not safe for concurrent use: use one per goroutine")
	}
}

func (u *inUse) exit() { u.busy.Store(false) }
