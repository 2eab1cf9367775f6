package latent

import (
	"fmt"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/paramset"
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

// paramSet lists every checkpointed array with a view into its storage.
func (m *Model) paramSet() *paramset.Set {
	var s paramset.Set
	view := func(prefix string, src []float32) {
		for _, t := range m.tensors {
			s.Add(prefix+t.name, t.shape, src[t.off:t.off+t.len])
		}
	}
	view("", m.e.params)
	view("swa.", m.swa.State())
	expAvg, expAvgSq := m.opt.State()
	view("opt.exp_avg.", expAvg)
	view("opt.exp_avg_sq.", expAvgSq)
	return &s
}

// Names lists the keys of Params in a stable order: the network tensors
// ("encoder.0.weight", …, "posterior_drift.*", "prior_drift.*", "diffusion.*",
// "decoder.weight"/"bias", "pz0_mean", "pz0_logstd"), their weight averages ("swa." +
// name), the Adam moments ("opt.exp_avg." + name, "opt.exp_avg_sq." + name) and the
// counters "state.step", "state.updates", "state.swa_n". MLP layers are numbered like
// torchsde's MLP Sequential (linear layers 0, 2, …); weights are out×in, row-major.
func (m *Model) Names() []string { return m.paramSet().Names() }

// Shapes returns the shape of every array of Params.
func (m *Model) Shapes() map[string][]int { return m.paramSet().Shapes() }

// Params returns a copy of everything needed to resume training bit-identically: the
// networks, the weight average, the optimiser's state and the step counters (see
// Names). With the Config and times the model was made with, New followed by SetParams
// restores the model exactly.
func (m *Model) Params() map[string][]float32 {
	return m.paramSet().Params(paramset.Counters{Step: m.step, Updates: m.opt.Steps(), SWAN: m.swa.N()})
}

// SetParams restores what Params returned. Every key of Names must be present with its
// length, and no other; nothing is changed on error. The model must have been made with
// the same Config (sizes and seed) and times for a resumed run to match.
func (m *Model) SetParams(p map[string][]float32) error {
	c, err := m.paramSet().SetParams(p)
	if err != nil {
		return fmt.Errorf("latent: SetParams: %w", err)
	}
	m.step = c.Step
	m.opt.SetSteps(c.Updates)
	m.swa.SetN(c.SWAN)
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
