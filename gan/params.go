package gan

import (
	"fmt"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/paramset"
)

// tensor is one named weight matrix or bias vector inside a network's flat parameters.
type tensor struct {
	name     string
	shape    []int
	disc     bool // in discP (else genP)
	off, len int
}

// layout lists the networks' tensors, generator then discriminator, each in the order
// of the flat vectors. MLP layers are numbered like torchsde's MLP (a torch Sequential
// with an activation after every hidden layer): linear layer l is index 2l.
func (e *engine[F]) layout() []tensor {
	var ts []tensor
	mlp := func(prefix string, m *nn.MLP, disc bool, base int, single bool) {
		for l, L := range m.Layers() {
			p := fmt.Sprintf("%s.%d.", prefix, 2*l)
			if single {
				p = prefix + "."
			}
			ts = append(ts,
				tensor{name: p + "weight", shape: []int{L.Out, L.In}, disc: disc, off: base + L.W, len: L.Out * L.In},
				tensor{name: p + "bias", shape: []int{L.Out}, disc: disc, off: base + L.B, len: L.Out})
		}
	}
	mlp("generator.initial", e.gInit, false, e.gOff[partInitial], false)
	mlp("generator.drift", e.sde.Drift(), false, e.gOff[partField], false)
	mlp("generator.diffusion", e.sde.Diffusion(), false, e.gOff[partField]+e.sde.Drift().NumParams(), false)
	mlp("generator.readout", e.gRead, false, e.gOff[partReadout], true)
	mlp("discriminator.initial", e.dInit, true, e.dOff[partInitial], false)
	mlp("discriminator.field", e.cde.MLP(), true, e.dOff[partField], false)
	mlp("discriminator.readout", e.dRead, true, e.dOff[partReadout], true)
	return ts
}

// paramSet lists every checkpointed array with a view into its storage.
func (m *Model) paramSet() *paramset.Set {
	m.Sync() // on failure: the last synced state, and the error is kept for the next Step
	var s paramset.Set
	view := func(prefix string, gen, disc []float32) {
		for _, t := range m.tensors {
			src := gen
			if t.disc {
				src = disc
			}
			s.Add(prefix+t.name, t.shape, src[t.off:t.off+t.len])
		}
	}
	view("", m.e.genP, m.e.discP)
	if m.cfg.sigKer() {
		// The generator alone, with Adam's state under torch's names.
		ea, eas := m.gAdam.State()
		view("swa.", m.gSWA.State(), nil)
		view("opt.exp_avg.", ea, nil)
		view("opt.exp_avg_sq.", eas, nil)
		return &s
	}
	gs, gu := m.gOpt.State()
	ds, du := m.dOpt.State()
	view("swa.", m.gSWA.State(), m.dSWA.State())
	view("opt.square_avg.", gs, ds)
	view("opt.acc_delta.", gu, du)
	return &s
}

// Names lists the keys of Params in a stable order: the generator's tensors
// ("generator.initial.0.weight", …, "generator.drift.*", "generator.diffusion.*",
// "generator.readout.weight"/"bias"), the discriminator's ("discriminator.initial.*",
// "discriminator.field.*", "discriminator.readout.*"), their SWA averages ("swa." +
// name), the Adadelta state ("opt.square_avg." + name, "opt.acc_delta." + name) and the
// counters "state.step", "state.updates", "state.swa_n". MLP layers are numbered like
// torchsde's MLP Sequential (linear layers 0, 2, …); weights are out×in, row-major.
func (m *Model) Names() []string { return m.paramSet().Names() }

// Shapes returns the shape of every array of Params.
func (m *Model) Shapes() map[string][]int { return m.paramSet().Shapes() }

// Params returns a copy of everything needed to resume training bit-identically: the
// networks, the SWA averages, the optimisers' state and the step counters (see Names).
// With the Config and times the model was made with, New followed by SetParams restores
// the model exactly.
func (m *Model) Params() map[string][]float32 {
	updates := m.gOpt.Steps()
	if m.cfg.sigKer() {
		updates = m.gAdam.Steps()
	}
	return m.paramSet().Params(paramset.Counters{Step: m.step, Updates: updates, SWAN: m.gSWA.N()})
}

// SetParams restores what Params returned. Every key of Names must be present with its
// length, and no other; nothing is changed on error. The model must have been made with
// the same Config (sizes and seed) and times for a resumed run to match.
func (m *Model) SetParams(p map[string][]float32) error {
	c, err := m.paramSet().SetParams(p)
	if err != nil {
		return fmt.Errorf("gan: SetParams: %w", err)
	}
	m.step = c.Step
	m.dev.fresh, m.dev.stale = false, false // the host's state is now the one to use
	m.gOpt.SetSteps(c.Updates)
	m.dOpt.SetSteps(c.Updates)
	if m.cfg.sigKer() {
		m.gAdam.SetSteps(c.Updates)
	}
	m.gSWA.SetN(c.SWAN)
	m.dSWA.SetN(c.SWAN)
	return nil
}

// NetworkParams returns the network parameters of Params under the names of Names
// (generator and discriminator tensors only), for sampling or export; averaged selects
// the SWA averages (the current parameters before SWA has started).
func (m *Model) NetworkParams(averaged bool) map[string][]float32 {
	gen, disc := m.params(averaged)
	out := map[string][]float32{}
	for _, t := range m.tensors {
		src := gen
		if t.disc {
			src = disc
		}
		out[t.name] = append([]float32(nil), src[t.off:t.off+t.len]...)
	}
	return out
}
