package cuda

import "errors"

// pool keeps freed allocations by size so that a training loop, which asks for the
// same buffers every step, allocates device memory only in its first step.
type pool struct {
	free  map[int64][]buffer
	bytes int64 // held in all, in use or free
}

// alloc returns a buffer of n bytes (rounded up to 256), from the pool when it can.
func (pl *pool) alloc(be backend, n int64) (buffer, error) {
	n = (max(n, 1) + 255) &^ 255
	if l := pl.free[n]; len(l) > 0 {
		b := l[len(l)-1]
		pl.free[n] = l[:len(l)-1]
		return b, nil
	}
	b, err := be.alloc(n)
	if err != nil {
		return buffer{}, err
	}
	pl.bytes += n
	return b, nil
}

// release returns b to the pool.
func (pl *pool) release(b buffer) {
	if b.null() {
		return
	}
	if pl.free == nil {
		pl.free = map[int64][]buffer{}
	}
	pl.free[b.size] = append(pl.free[b.size], b)
}

// drain frees every pooled buffer.
func (pl *pool) drain(be backend) error {
	var errs []error
	for n, l := range pl.free {
		for _, b := range l {
			errs = append(errs, be.free(b))
			pl.bytes -= n
		}
	}
	pl.free = map[int64][]buffer{}
	return errors.Join(errs...)
}
