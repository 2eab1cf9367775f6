package latent

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/gosde/gosde/nn"
)

// tensor is one named weight matrix or bias vector inside the flat parameters.
type tensor struct {
	name     string
	shape    []int
	off, len int
}

// layout lists the tensors in the order of the flat vector. MLP layers are numbered like
// torchsde's MLP (a torch Sequential with an activation after every hidden layer):
// linear layer l is index 2l.
func (e *engine[F]) layout() []tensor {
	var ts []tensor
	mlp := func(prefix string, m *nn.MLP, base int, single bool) {
		for l, L := range m.Layers() {
			p := fmt.Sprintf("%s.%d.", prefix, 2*l)
			if single {
				p = prefix + "."
			}
			ts = append(ts,
				tensor{name: p + "weight", shape: []int{L.Out, L.In}, off: base + L.W, len: L.Out * L.In},
				tensor{name: p + "bias", shape: []int{L.Out}, off: base + L.B, len: L.Out})
		}
	}
	mlp("encoder", e.enc, e.off[partEnc], false)
	mlp("posterior_drift", e.nets.f, e.off[partF], false)
	mlp("prior_drift", e.nets.h, e.off[partH], false)
	mlp("diffusion", e.nets.g, e.off[partG], false)
	mlp("decoder", e.dec, e.off[partDec], true)
	ts = append(ts,
		tensor{name: "pz0_mean", shape: []int{e.d}, off: e.off[partPZ0], len: e.d},
		tensor{name: "pz0_logstd", shape: []int{e.d}, off: e.off[partPZ0] + e.d, len: e.d})
	return ts
}

// Checkpoint counters, stored as one-element tensors (exact up to 2²⁴).
const (
	keyStep    = "state.step"    // Step calls so far (the noise index of the next step)
	keyUpdates = "state.updates" // optimiser updates applied
	keySWAN    = "state.swa_n"   // parameter sets averaged
	maxCounter = 1 << 24
)

type entry struct {
	name  string
	shape []int
	data  []float32 // a view into the model's storage (nil for counters)
}

// entries lists every checkpointed array with a view into its storage.
func (m *Model) entries() []entry {
	var es []entry
	view := func(prefix string, src []float32) {
		for _, t := range m.tensors {
			es = append(es, entry{name: prefix + t.name, shape: t.shape, data: src[t.off : t.off+t.len]})
		}
	}
	view("", m.e.params)
	view("swa.", m.swa.State())
	expAvg, expAvgSq := m.opt.State()
	view("opt.exp_avg.", expAvg)
	view("opt.exp_avg_sq.", expAvgSq)
	for _, k := range []string{keyStep, keyUpdates, keySWAN} {
		es = append(es, entry{name: k, shape: []int{1}})
	}
	return es
}

// Names lists the keys of Params in a stable order: the network tensors
// ("encoder.0.weight", …, "posterior_drift.*", "prior_drift.*", "diffusion.*",
// "decoder.weight"/"bias", "pz0_mean", "pz0_logstd"), their weight averages ("swa." +
// name), the Adam moments ("opt.exp_avg." + name, "opt.exp_avg_sq." + name) and the
// counters "state.step", "state.updates", "state.swa_n". MLP layers are numbered like
// torchsde's MLP Sequential (linear layers 0, 2, …); weights are out×in, row-major.
func (m *Model) Names() []string {
	es := m.entries()
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.name
	}
	return names
}

// Shapes returns the shape of every array of Params.
func (m *Model) Shapes() map[string][]int {
	out := map[string][]int{}
	for _, e := range m.entries() {
		out[e.name] = append([]int(nil), e.shape...)
	}
	return out
}

// Params returns a copy of everything needed to resume training bit-identically: the
// networks, the weight average, the optimiser's state and the step counters (see
// Names). With the Config and times the model was made with, New followed by SetParams
// restores the model exactly.
func (m *Model) Params() map[string][]float32 {
	out := map[string][]float32{}
	for _, e := range m.entries() {
		if e.data != nil {
			out[e.name] = append([]float32(nil), e.data...)
		}
	}
	out[keyStep] = []float32{float32(m.step)}
	out[keyUpdates] = []float32{float32(m.opt.Steps())}
	out[keySWAN] = []float32{float32(m.swa.N())}
	return out
}

// SetParams restores what Params returned. Every key of Names must be present with its
// length, and no other; nothing is changed on error. The model must have been made with
// the same Config (sizes and seed) and times for a resumed run to match.
func (m *Model) SetParams(p map[string][]float32) error {
	es := m.entries()
	known := map[string]bool{}
	var missing []string
	for _, e := range es {
		known[e.name] = true
		v, ok := p[e.name]
		if !ok {
			missing = append(missing, e.name)
			continue
		}
		want := 1
		for _, d := range e.shape {
			want *= d
		}
		if len(v) != want {
			return fmt.Errorf("latent: SetParams: %s has %d values, want %d", e.name, len(v), want)
		}
		if e.data == nil {
			if c := v[0]; !(c >= 0 && c <= maxCounter && c == float32(math.Trunc(float64(c)))) {
				return fmt.Errorf("latent: SetParams: %s = %v is not a counter", e.name, c)
			}
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("latent: SetParams: missing %s", strings.Join(missing, ", "))
	}
	var unknown []string
	for k := range p {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("latent: SetParams: unknown %s", strings.Join(unknown, ", "))
	}
	if p[keySWAN][0] > p[keyUpdates][0] || p[keyUpdates][0] > p[keyStep][0] {
		return fmt.Errorf("latent: SetParams: inconsistent counters step %v, updates %v, swa_n %v", p[keyStep][0], p[keyUpdates][0], p[keySWAN][0])
	}
	for _, e := range es {
		if e.data != nil {
			copy(e.data, p[e.name])
		}
	}
	m.step = int(p[keyStep][0])
	m.opt.SetSteps(int(p[keyUpdates][0]))
	m.swa.SetN(int(p[keySWAN][0]))
	return nil
}

// NetworkParams returns the network tensors of Params under the names of Names, for
// sampling or export; averaged selects the weight average (the current parameters when
// there is none).
func (m *Model) NetworkParams(averaged bool) map[string][]float32 {
	src := m.params(averaged)
	out := map[string][]float32{}
	for _, t := range m.tensors {
		out[t.name] = append([]float32(nil), src[t.off:t.off+t.len]...)
	}
	return out
}
