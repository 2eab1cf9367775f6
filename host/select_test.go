package host

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// fakeEngine stands for the GPU engine of a -tags cuda build.
type fakeEngine struct {
	CPU
	name   string
	closed bool
}

func (f *fakeEngine) Name() string { return f.name }
func (f *fakeEngine) Close() error { f.closed = true; return nil }

// register registers open under name for the rest of t.
func register(t *testing.T, name string, open func() (Engine, error)) {
	t.Helper()
	Register(name, open)
	t.Cleanup(func() {
		regMu.Lock()
		delete(openers, name)
		regMu.Unlock()
	})
}

func TestOpenWithoutGPU(t *testing.T) {
	for _, dev := range []string{"cpu", "auto", ""} {
		e, err := Open(dev)
		if err != nil || e.Name() != "cpu" {
			t.Errorf("Open(%q) = %v, %v; want the CPU engine", dev, e, err)
		}
		if c, ok := e.(*CPU); !ok || c.Fallback() != nil {
			t.Errorf("Open(%q): %T, fallback %v", dev, e, c.Fallback())
		}
	}
	for dev, want := range map[string]string{
		"gpu": "this gosde was built without GPU support; build it with `make build-gpu` (go build -tags cuda, needs the CUDA toolkit) or use --device cpu",
		"tpu": `unknown device "tpu": choose auto, cpu or gpu`,
		"CPU": `unknown device "CPU": choose auto, cpu or gpu`,
	} {
		e, err := Open(dev)
		if err == nil || err.Error() != want || e != nil {
			t.Errorf("Open(%q) = %v, %v; want the error %q", dev, e, err, want)
		}
		if err := Check(dev); err == nil || err.Error() != want {
			t.Errorf("Check(%q) = %v, want %q", dev, err, want)
		}
	}
	for _, dev := range []string{"", "auto", "cpu"} {
		if err := Check(dev); err != nil {
			t.Errorf("Check(%q) = %v", dev, err)
		}
	}
	if got := Available(); !slices.Equal(got, []string{"cpu"}) {
		t.Errorf("Available() = %v, want [cpu]", got)
	}
}

func TestOpenWithGPU(t *testing.T) {
	opened := 0
	register(t, "gpu", func() (Engine, error) { opened++; return &fakeEngine{name: "gpu (Fake H200)"}, nil })
	if opened != 0 {
		t.Fatal("Register opened the engine")
	}
	for _, dev := range []string{"gpu", "auto", ""} {
		e, err := Open(dev)
		if err != nil || e.Name() != "gpu (Fake H200)" {
			t.Errorf("Open(%q) = %v, %v; want the registered engine", dev, e, err)
		}
		if err := Check(dev); err != nil {
			t.Errorf("Check(%q) = %v", dev, err)
		}
	}
	if opened != 3 {
		t.Errorf("opener called %d times for 3 Opens", opened)
	}
	if e, err := Open("cpu"); err != nil || e.Name() != "cpu" {
		t.Errorf("Open(cpu) = %v, %v", e, err)
	}
	if got := Available(); !slices.Equal(got, []string{"cpu", "gpu"}) {
		t.Errorf("Available() = %v, want [cpu gpu]", got)
	}
}

func TestOpenWhenGPUFailsToStart(t *testing.T) {
	broken := errors.New("no CUDA-capable device is detected")
	register(t, "gpu", func() (Engine, error) { return nil, broken })
	e, err := Open("gpu")
	if !errors.Is(err, broken) || e != nil || !strings.Contains(err.Error(), "--device cpu") {
		t.Errorf("Open(gpu) = %v, %v; want the opener's error and a way out", e, err)
	}
	// auto never fails: it falls back to the CPU and says why.
	e, err = Open("auto")
	if err != nil || e.Name() != "cpu" {
		t.Fatalf("Open(auto) = %v, %v; want the CPU engine", e, err)
	}
	if fb := e.(*CPU).Fallback(); !errors.Is(fb, broken) {
		t.Errorf("Fallback() = %v, want the GPU engine's error", fb)
	}
}

func TestOpenOtherRegisteredEngine(t *testing.T) {
	register(t, "fpga", func() (Engine, error) { return &fakeEngine{name: "fpga"}, nil })
	if e, err := Open("fpga"); err != nil || e.Name() != "fpga" {
		t.Errorf("Open(fpga) = %v, %v", e, err)
	}
	// auto prefers only the GPU.
	if e, err := Open("auto"); err != nil || e.Name() != "cpu" {
		t.Errorf("Open(auto) = %v, %v", e, err)
	}
	if err := Check("tpu"); err == nil || !strings.Contains(err.Error(), "choose auto, cpu, gpu or fpga") {
		t.Errorf("Check(tpu) = %v", err)
	}
	if got := Available(); !slices.Equal(got, []string{"cpu", "fpga"}) {
		t.Errorf("Available() = %v", got)
	}
}

func TestRegisterRefusesMistakes(t *testing.T) {
	open := func() (Engine, error) { return NewCPU(), nil }
	register(t, "gpu", open)
	for name, f := range map[string]func(){
		"twice":    func() { Register("gpu", open) },
		"cpu":      func() { Register("cpu", open) },
		"auto":     func() { Register("auto", open) },
		"empty":    func() { Register("", open) },
		"nil open": func() { Register("x", nil) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register %s did not panic", name)
				}
			}()
			f()
		}()
	}
}
