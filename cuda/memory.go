//go:build cuda

package cuda

import (
	"fmt"

	"gorgonia.org/cu"
)

// pool keeps freed device allocations by size so that a training loop, which asks for
// the same buffers every step, allocates device memory only in its first step.
type pool struct {
	free  map[int64][]cu.DevicePtr
	bytes int64 // held in all, in use or free
}

// alloc returns a buffer of n bytes (rounded up to 256), from the pool when it can.
// Called on the device thread.
func (d *device) alloc(pl *pool, n int64) (buffer, error) {
	n = (max(n, 1) + 255) &^ 255
	if l := pl.free[n]; len(l) > 0 {
		p := l[len(l)-1]
		pl.free[n] = l[:len(l)-1]
		return buffer{p, n}, nil
	}
	p, err := cu.MemAlloc(n)
	if err != nil {
		return buffer{}, wrap(fmt.Sprintf("allocating %.1f MiB of GPU memory", float64(n)/(1<<20)), err)
	}
	pl.bytes += n
	return buffer{p, n}, nil
}

// release returns b to the pool.
func (pl *pool) release(b buffer) {
	if b.ptr == 0 {
		return
	}
	pl.free[b.size] = append(pl.free[b.size], b.ptr)
}

// drain frees every pooled buffer. Called on the device thread.
func (pl *pool) drain() error {
	var first error
	for n, l := range pl.free {
		for _, p := range l {
			if err := cu.MemFree(p); err != nil && first == nil {
				first = wrap("freeing GPU memory", err)
			}
			pl.bytes -= n
		}
	}
	pl.free = map[int64][]cu.DevicePtr{}
	return first
}

// buffer is one device allocation.
type buffer struct {
	ptr  cu.DevicePtr
	size int64
}

// upload copies s to b (synchronously with respect to the host: s may be reused
// when it returns), ordered on the device's stream.
func upload[T int32 | float32](d *device, b buffer, s []T) error {
	if len(s) == 0 {
		return nil
	}
	n := int64(len(s)) * 4
	if n > b.size {
		return fmt.Errorf("cuda: internal error: uploading %d bytes into a buffer of %d", n, b.size)
	}
	if err := cu.MemcpyHtoDAsync(b.ptr, ptrOf(s), n, d.stream); err != nil {
		return wrap("copying to the GPU", err)
	}
	return nil
}

// download copies len(s) values from b into s and waits for them.
func download[T int32 | float32](d *device, s []T, b buffer) error {
	if len(s) == 0 {
		return nil
	}
	n := int64(len(s)) * 4
	if err := cu.MemcpyDtoHAsync(ptrOf(s), b.ptr, n, d.stream); err != nil {
		return wrap("copying from the GPU", err)
	}
	if err := d.stream.Synchronize(); err != nil {
		return wrap("waiting for the GPU", err)
	}
	return nil
}

// zero clears b's first n 4-byte words on the stream.
func (d *device) zero(b buffer, n int64) error {
	if err := cu.MemsetD32Async(b.ptr, 0, n, d.stream); err != nil {
		return wrap("clearing GPU memory", err)
	}
	return nil
}
