// Package paramset names a model's flat float32 vectors (its network parameters, their
// weight average, its optimiser's state) for checkpoints: a Set is an ordered list of
// named, shaped views into that storage plus the training counters, read out as a map
// by Params and written back, all or nothing, by SetParams.
//
// The counters are stored beside the tensors under KeyStep, KeyUpdates and KeySWAN, each
// as two float32 whole numbers [high, low] below 2^24, the counter being high·2^24 + low
// (EncodeCounter): a float32 holds every whole number only up to 2^24, which a long run's
// step count passes, and a rounded step count would repeat or skip the noise of a step.
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
	MaxCounter = 1<<48 - 1
)

// counterBase is the base of a counter's two float32 digits: every whole number below
// it is exact in float32.
const counterBase = 1 << 24

// IsCounter reports whether name is one of the counters' keys.
func IsCounter(name string) bool {
	return name == KeyStep || name == KeyUpdates || name == KeySWAN
}

// EncodeCounter is n (0 ≤ n ≤ MaxCounter) as a counter's two float32 digits [high, low],
// n = high·2^24 + low, both exact.
func EncodeCounter(n int) []float32 {
	return []float32{float32(n / counterBase), float32(n % counterBase)}
}

// DecodeCounter is the counter that EncodeCounter encoded as v; ok is false for anything
// else (not two whole digits in [0, 2^24)).
func DecodeCounter(v []float32) (n int, ok bool) {
	if len(v) != 2 {
		return 0, false
	}
	for _, d := range v {
		if !(d >= 0 && d < counterBase && d == float32(math.Trunc(float64(d)))) {
			return 0, false
		}
	}
	return int(v[0])*counterBase + int(v[1]), true
}

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
		es = append(es, entry{name: k, shape: []int{2}})
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

// Shapes returns the shape of every array of Params (the counters' is [2]).
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
	out[KeyStep] = EncodeCounter(c.Step)
	out[KeyUpdates] = EncodeCounter(c.Updates)
	out[KeySWAN] = EncodeCounter(c.SWAN)
	return out
}

// SetParams checks p and copies it into the views, returning the counters for the
// caller to restore. Every key of Names must be present with its shape's number of
// values, and no other; each counter must be as EncodeCounter writes it, with
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
			if _, ok := DecodeCounter(v); !ok {
				return Counters{}, fmt.Errorf("%s = %v is not a counter", e.name, v)
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
	step, _ := DecodeCounter(p[KeyStep])
	updates, _ := DecodeCounter(p[KeyUpdates])
	swaN, _ := DecodeCounter(p[KeySWAN])
	if swaN > updates || updates > step {
		return Counters{}, fmt.Errorf("inconsistent counters step %d, updates %d, swa_n %d", step, updates, swaN)
	}
	for _, e := range s.entries {
		copy(e.data, p[e.name])
	}
	return Counters{Step: step, Updates: updates, SWAN: swaN}, nil
}

func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
