//go:build cuda

package cuda

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/kernels"
)

func init() {
	host.Register("gpu", func() (host.Engine, error) { return Open(0) })
}

// Open returns the GPU engine on device ordinal (0: the first GPU).
func Open(ordinal int) (*Engine, error) {
	d, err := openDevice(ordinal)
	if err != nil {
		return nil, err
	}
	return &Engine{be: d}, nil
}

var _ backend = (*device)(nil)

func (d *device) describe() string {
	return fmt.Sprintf("gpu: %s (sm_%d%d)", d.name, d.ccMajor, d.ccMinor)
}

// device is one GPU with its context, its loaded modules and the thread that owns
// them.
type device struct {
	ordinal int
	name    string
	ccMajor int
	ccMinor int
	sms     int // streaming multiprocessors
	ctx     cu.CUContext
	stream  cu.Stream
	modules []cu.Module
	fns     map[string]cu.Function
	work    chan func()
	closed  bool
}

// openDevice creates a context on GPU ordinal, loads every PTX module and starts the
// thread that owns them.
func openDevice(ordinal int) (*device, error) {
	d := &device{ordinal: ordinal, fns: map[string]cu.Function{}, work: make(chan func())}
	ready := make(chan error, 1)
	go d.loop(ready)
	if err := <-ready; err != nil {
		return nil, err
	}
	return d, nil
}

func (d *device) loop(ready chan<- error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := d.init(); err != nil {
		d.release()
		ready <- err
		return
	}
	ready <- nil
	for f := range d.work {
		f()
	}
}

func (d *device) init() error {
	n, err := cu.NumDevices()
	if err != nil {
		return wrap("counting CUDA devices", err)
	}
	if d.ordinal >= n {
		return fmt.Errorf("cuda: no CUDA device %d (this machine has %d); run `gosde devices` to list them", d.ordinal, n)
	}
	dev, err := cu.GetDevice(d.ordinal)
	if err != nil {
		return wrap("opening the CUDA device", err)
	}
	if d.name, err = dev.Name(); err != nil {
		return wrap("reading the device name", err)
	}
	if d.ccMajor, d.ccMinor, err = dev.ComputeCapability(); err != nil {
		return wrap("reading the compute capability", err)
	}
	if d.sms, err = dev.Attribute(cu.MultiprocessorCount); err != nil {
		return wrap("reading the multiprocessor count", err)
	}
	if d.ccMajor < 8 {
		return fmt.Errorf("cuda: %s has compute capability %d.%d; gosde's kernels need 8.0 or newer (A100, H100, H200, RTX 30xx and later)", d.name, d.ccMajor, d.ccMinor)
	}
	if d.ctx, err = dev.MakeContext(cu.SchedAuto); err != nil {
		return wrap("creating a CUDA context", err)
	}
	if err := cu.SetCurrentContext(d.ctx); err != nil {
		return wrap("making the CUDA context current", err)
	}
	if d.stream, err = cu.MakeStream(cu.NonBlocking); err != nil {
		return wrap("creating a CUDA stream", err)
	}
	for _, name := range kernels.Modules {
		src, err := kernels.PTX(name)
		if err != nil {
			return err
		}
		mod, err := cu.LoadData(src)
		if err != nil {
			return wrap("loading the PTX module "+name+" (the driver may be older than the PTX's CUDA 11.8; update the NVIDIA driver)", err)
		}
		d.modules = append(d.modules, mod)
	}
	for _, k := range kernelNames {
		var fn cu.Function
		var ferr error
		for _, mod := range d.modules {
			if fn, ferr = mod.Function(k); ferr == nil {
				break
			}
		}
		if ferr != nil {
			return fmt.Errorf("cuda: kernel %s is missing from the embedded PTX (run `make ptx`): %w", k, ferr)
		}
		d.fns[k] = fn
	}
	return nil
}

// do runs f on the device's thread and returns its error.
func (d *device) do(f func() error) error {
	if d.closed {
		return errors.New("cuda: the GPU engine is closed")
	}
	done := make(chan error, 1)
	d.work <- func() { done <- f() }
	return <-done
}

// release frees what init made, in reverse. Runs on the device thread.
func (d *device) release() error {
	var errs []error
	if d.stream != (cu.Stream{}) {
		errs = append(errs, d.stream.Destroy())
	}
	for _, m := range d.modules {
		errs = append(errs, m.Unload())
	}
	d.modules = nil
	if d.ctx != (cu.CUContext{}) {
		errs = append(errs, d.ctx.Destroy())
	}
	return errors.Join(errs...)
}

func (d *device) alloc(n int64) (buffer, error) {
	p, err := cu.MemAlloc(n)
	if err != nil {
		return buffer{}, wrap(fmt.Sprintf("allocating %.1f MiB of GPU memory", float64(n)/(1<<20)), err)
	}
	return buffer{dev: uintptr(p), size: n}, nil
}

func (d *device) free(b buffer) error {
	if err := cu.MemFree(cu.DevicePtr(b.dev)); err != nil {
		return wrap("freeing GPU memory", err)
	}
	return nil
}

// upload is asynchronous on the stream, but a copy from pageable memory is staged
// before the call returns, so the caller may reuse src at once.
func (d *device) upload(dst buffer, src unsafe.Pointer, n int64) error {
	if err := cu.MemcpyHtoDAsync(cu.DevicePtr(dst.dev), src, n, d.stream); err != nil {
		return wrap("copying to the GPU", err)
	}
	return nil
}

func (d *device) download(dst unsafe.Pointer, src buffer, n int64) error {
	if err := cu.MemcpyDtoHAsync(dst, cu.DevicePtr(src.dev), n, d.stream); err != nil {
		return wrap("copying from the GPU", err)
	}
	if err := d.stream.Synchronize(); err != nil {
		return wrap("waiting for the GPU", err)
	}
	return nil
}

func (d *device) zero(b buffer, words int64) error {
	if err := cu.MemsetD32Async(cu.DevicePtr(b.dev), 0, words, d.stream); err != nil {
		return wrap("clearing GPU memory", err)
	}
	return nil
}

func (d *device) close() error {
	if d.closed {
		return nil
	}
	err := d.do(d.release)
	d.closed = true
	close(d.work)
	return err
}

// wrap turns a CUDA error into one that says what was being done and what to do.
func wrap(doing string, err error) error {
	switch {
	case errors.Is(err, cu.OutOfMemory):
		return fmt.Errorf("cuda: %s: the GPU is out of memory; reduce --batch (or free the GPU: see `gosde devices`): %w", doing, err)
	case errors.Is(err, cu.NoDevice):
		return fmt.Errorf("cuda: %s: no CUDA-capable device is visible; check `gosde devices` and CUDA_VISIBLE_DEVICES, or use --device cpu: %w", doing, err)
	case errors.Is(err, cu.LaunchFailed), errors.Is(err, cu.IllegalAddress), errors.Is(err, cu.LaunchOutOfResources):
		return fmt.Errorf("cuda: %s: a kernel failed; the CUDA context is unusable — restart the run, and report it with the output of `gosde devices`: %w", doing, err)
	case errors.Is(err, cu.InvalidPtx), errors.Is(err, cu.NoBinaryForGpu):
		return fmt.Errorf("cuda: %s: the driver cannot load gosde's PTX; update the NVIDIA driver to one supporting CUDA 11.8 or newer: %w", doing, err)
	}
	return fmt.Errorf("cuda: %s: %w", doing, err)
}
