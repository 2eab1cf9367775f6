// Package paramset names a model's flat float32 vectors (its network parameters, their
// weight average, its optimiser's state) for checkpoints: a Set is an ordered list of
// named, shaped views into that storage plus the training counters, read out as a map
// by Params and written back, all or nothing, by SetParams.
//
// The counters are stored beside the tensors as one-element arrays under KeyStep,
// KeyUpdates and KeySWAN (exact in float32 up to MaxCounter).
package paramset

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Checkpoint counter keys, and the largest value a counter may hold.
const (
	KeyStep    = "state.step"    // Step calls so far (the noise index of the next step)
	KeyUpdates = "state.updates" // optimiser updates applied
	KeySWAN    = "state.swa_n"   // parameter sets averaged
	MaxCounter = 1 << 24
)

// Counters are a training run's progress: 0 ≤ SWAN ≤ Updates ≤ Step ≤ MaxCounter.
type Counters struct {
	Step    int // Step calls so far
	Updates int // optimiser updates applied
	SWAN    int // parameter sets averaged
}

type entry struct {
	name  string
	shape []int
	data  []float32 // a view into the model's storage (nil for counters)
}

// Set is an ordered list of named views into a model's storage, followed by the
// counters. The zero Set is empty and ready to use; build it with Add.
type Set struct {
	entries []entry
}

// Add appends the array name of the given shape (row-major) whose values are view, a
// slice of the model's storage that Params reads and SetParams writes. It panics if
// len(view) is not the product of shape.
func (s *Set) Add(name string, shape []int, view []float32) {
	if n := size(shape); len(view) != n {
		panic(fmt.Sprintf("paramset: %s has %d values for shape %v", name, len(view), shape))
	}
	s.entries = append(s.entries, entry{name: name, shape: shape, data: view})
}

// all is the added entries followed by the counters.
func (s *Set) all() []entry {
	es := make([]entry, 0, len(s.entries)+3)
	es = append(es, s.entries...)
	for _, k := range []string{KeyStep, KeyUpdates, KeySWAN} {
		es = append(es, entry{name: k, shape: []int{1}})
	}
	return es
}

// Names lists the keys of Params in order: the arrays as added, then KeyStep,
// KeyUpdates and KeySWAN.
func (s *Set) Names() []string {
	es := s.all()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.name
	}
	return names
}

// Shapes returns the shape of every array of Params (the counters' is [1]).
func (s *Set) Shapes() map[string][]int {
	out := map[string][]int{}
	for _, e := range s.all() {
		out[e.name] = append([]int(nil), e.shape...)
	}
	return out
}

// Params returns a copy of every array under its name, and the counters c.
func (s *Set) Params(c Counters) map[string][]float32 {
	out := map[string][]float32{}
	for _, e := range s.entries {
		out[e.name] = append([]float32(nil), e.data...)
	}
	out[KeyStep] = []float32{float32(c.Step)}
	out[KeyUpdates] = []float32{float32(c.Updates)}
	out[KeySWAN] = []float32{float32(c.SWAN)}
	return out
}

// SetParams checks p and copies it into the views, returning the counters for the
// caller to restore. Every key of Names must be present with its shape's number of
// values, and no other; each counter must be a whole number in [0, MaxCounter], with
// swa_n ≤ updates ≤ step. On error nothing is written. The error names the offending
// keys, without a package prefix, for the caller to wrap.
func (s *Set) SetParams(p map[string][]float32) (Counters, error) {
	es := s.all()
	known := map[string]bool{}
	var missing []string
	for _, e := range es {
		known[e.name] = true
		v, ok := p[e.name]
		if !ok {
			missing = append(missing, e.name)
			continue
		}
		if want := size(e.shape); len(v) != want {
			return Counters{}, fmt.Errorf("%s has %d values, want %d", e.name, len(v), want)
		}
		if e.data == nil {
			if c := v[0]; !(c >= 0 && c <= MaxCounter && c == float32(math.Trunc(float64(c)))) {
				return Counters{}, fmt.Errorf("%s = %v is not a counter", e.name, c)
			}
		}
	}
	if len(missing) > 0 {
		return Counters{}, fmt.Errorf("missing %s", strings.Join(missing, ", "))
	}
	var unknown []string
	for k := range p {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Counters{}, fmt.Errorf("unknown %s", strings.Join(unknown, ", "))
	}
	if p[KeySWAN][0] > p[KeyUpdates][0] || p[KeyUpdates][0] > p[KeyStep][0] {
		return Counters{}, fmt.Errorf("inconsistent counters step %v, updates %v, swa_n %v", p[KeyStep][0], p[KeyUpdates][0], p[KeySWAN][0])
	}
	for _, e := range s.entries {
		copy(e.data, p[e.name])
	}
	return Counters{
		Step:    int(p[KeyStep][0]),
		Updates: int(p[KeyUpdates][0]),
		SWAN:    int(p[KeySWAN][0]),
	}, nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
