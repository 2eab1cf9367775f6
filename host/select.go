package host

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// errNoGPU is what asking for the GPU gets from a binary built without it: say how to
// get one that has it, since the flag alone cannot.
var errNoGPU = errors.New("this gosde was built without GPU support; build it with `make build-gpu` " +
	"(go build -tags cuda, needs the CUDA toolkit) or use --device cpu")

var (
	regMu   sync.Mutex
	openers = map[string]func() (Engine, error){}
)

// Register makes an engine available to Open under name. Package cuda calls
// Register("gpu", …) from its init in binaries built with -tags cuda, so that the
// GPU engine exists exactly when it is linked in; open is called only when the engine
// is asked for (gorgonia.org/cu's own init already needs the driver, but contexts and
// device memory are not taken before they are wanted).
//
// Like database/sql.Register it panics on an empty name, a nil opener, a name Open
// reserves ("cpu", "auto") or a second registration of a name: these are mistakes in
// a program's wiring, made at init, with no caller to return an error to.
func Register(name string, open func() (Engine, error)) {
	if name == "" || open == nil {
		panic("host: Register needs a name and an opener")
	}
	if name == "cpu" || name == "auto" {
		panic(fmt.Sprintf("host: Register(%q): the name is reserved", name))
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := openers[name]; dup {
		panic(fmt.Sprintf("host: Register(%q) called twice", name))
	}
	openers[name] = open
}

func opener(name string) func() (Engine, error) {
	regMu.Lock()
	defer regMu.Unlock()
	return openers[name]
}

// Available lists the engines this binary has, sorted: "cpu" and every registered one
// ("gpu" in a build with -tags cuda). Open accepts each of them and "auto". Being
// listed says the engine is linked in, not that its device is present.
func Available() []string {
	regMu.Lock()
	names := []string{"cpu"}
	for n := range openers {
		names = append(names, n)
	}
	regMu.Unlock()
	slices.Sort(names)
	return names
}

// Check returns the error Open would return for a device name this binary can never
// open (an unknown name, or "gpu" without GPU support), without opening anything:
// commands validate their flags with it before doing any work, and the engine itself
// is opened once, by whoever computes. The empty name means "auto".
func Check(device string) error {
	switch device {
	case "", "auto", "cpu":
		return nil
	}
	if opener(device) != nil {
		return nil
	}
	if device == "gpu" {
		return errNoGPU
	}
	return unknownDevice(device)
}

func unknownDevice(device string) error {
	choices := "auto, cpu or gpu"
	var extra []string
	for _, n := range Available() {
		if n != "cpu" && n != "gpu" {
			extra = append(extra, n)
		}
	}
	if len(extra) > 0 {
		choices = "auto, cpu, gpu or " + strings.Join(extra, ", ")
	}
	return fmt.Errorf("unknown device %q: choose %s", device, choices)
}

// Open opens the engine named device: "cpu"; "gpu" (or another registered name),
// which must be linked in and must start; or "auto" (also the empty name), the GPU
// engine when it is linked in and starts, else the CPU engine (see CPU.Fallback), so
// that "auto" never fails. The caller closes the engine.
func Open(device string) (Engine, error) {
	switch device {
	case "cpu":
		return NewCPU(), nil
	case "", "auto":
		open := opener("gpu")
		if open == nil {
			return NewCPU(), nil
		}
		e, err := open()
		if err != nil {
			return &CPU{fallback: fmt.Errorf("the gpu engine did not start: %w", err)}, nil
		}
		if e == nil {
			return &CPU{fallback: errors.New("the gpu engine's opener returned no engine")}, nil
		}
		return e, nil
	}
	if err := Check(device); err != nil {
		return nil, err
	}
	e, err := opener(device)()
	if err != nil {
		return nil, fmt.Errorf("the %s engine did not start: %w; use --device cpu (or auto, which falls back to the CPU)", device, err)
	}
	if e == nil {
		return nil, fmt.Errorf("the %s engine's opener returned no engine and no error", device)
	}
	return e, nil
}
