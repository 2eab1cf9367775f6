package gan

import (
	"fmt"
	"strings"

	"github.com/gosde/gosde/brownian"
)

// The modules of torchsde's examples/sde_gan.py that a Model's networks load into.
const (
	TorchsdeGenerator     = "generator"     // the example's Generator
	TorchsdeDiscriminator = "discriminator" // the example's Discriminator
)

// torchsdePrefixes maps the prefix of a gosde tensor name (Names) to the example's
// module and the prefix of its state-dict key there. The example's MLP keeps its layers
// in a Sequential called _model, numbered as gosde numbers them.
var torchsdePrefixes = []struct{ gosde, module, torch string }{
	{"generator.initial.", TorchsdeGenerator, "_initial._model."},
	{"generator.drift.", TorchsdeGenerator, "_func._drift._model."},
	{"generator.diffusion.", TorchsdeGenerator, "_func._diffusion._model."},
	{"generator.readout.", TorchsdeGenerator, "_readout."},
	{"discriminator.initial.", TorchsdeDiscriminator, "_initial._model."},
	{"discriminator.field.", TorchsdeDiscriminator, "_func._module._model."},
	{"discriminator.readout.", TorchsdeDiscriminator, "_readout."},
}

// TorchsdeName returns the module of torchsde's examples/sde_gan.py (TorchsdeGenerator
// or TorchsdeDiscriminator) that holds the network tensor gosde calls name (a key of
// NetworkParams), and its key in that module's state_dict:
//
//	generator.initial.L.weight      Generator      _initial._model.L.weight
//	generator.drift.L.weight        Generator      _func._drift._model.L.weight
//	generator.diffusion.L.weight    Generator      _func._diffusion._model.L.weight
//	generator.readout.weight        Generator      _readout.weight
//	discriminator.initial.L.weight  Discriminator  _initial._model.L.weight
//	discriminator.field.L.weight    Discriminator  _func._module._model.L.weight
//	discriminator.readout.weight    Discriminator  _readout.weight
//
// and the same for the biases (L = 0, 2, …: the linear layers' indices in the MLP's
// Sequential). Weights are out×in, row-major, as torch.nn.Linear keeps them.
func TorchsdeName(name string) (module, key string, err error) {
	for _, p := range torchsdePrefixes {
		if rest, ok := strings.CutPrefix(name, p.gosde); ok && rest != "" {
			return p.module, p.torch + rest, nil
		}
	}
	return "", "", fmt.Errorf("gan: %q is not a network tensor of the SDE-GAN (names start with generator. or discriminator.)", name)
}

// TorchsdeArgs returns the constructor arguments of the example's module (Generator:
// data_size, initial_noise_size, noise_size, hidden_size, mlp_size, num_layers;
// Discriminator: data_size, hidden_size, mlp_size, num_layers) that makes modules of
// this model's sizes. The example's MLP always has a hidden layer, so Depth 0 has no
// counterpart there and is an error.
func (c Config) TorchsdeArgs(module string) (map[string]int, error) {
	if c.Depth < 1 {
		return nil, fmt.Errorf("gan: networks of depth %d (no hidden layer) have no counterpart in torchsde's example, whose MLPs have at least one hidden layer; train with --depth 1 or more", c.Depth)
	}
	switch module {
	case TorchsdeGenerator:
		return map[string]int{"data_size": c.DataChannels, "initial_noise_size": c.InitialNoise, "noise_size": c.NoiseDim,
			"hidden_size": c.Hidden, "mlp_size": c.Width, "num_layers": c.Depth}, nil
	case TorchsdeDiscriminator:
		if c.sigKer() {
			return nil, fmt.Errorf("gan: a model trained by the signature-kernel score has no discriminator; export the %s", TorchsdeGenerator)
		}
		return map[string]int{"data_size": c.DataChannels, "hidden_size": c.Hidden, "mlp_size": c.Width, "num_layers": c.Depth}, nil
	}
	return nil, fmt.Errorf("gan: unknown module %q of torchsde's example; choose %s or %s", module, TorchsdeGenerator, TorchsdeDiscriminator)
}

// TorchsdeStateDict returns the weights of one of the example's modules
// (TorchsdeGenerator or TorchsdeDiscriminator) under its state-dict keys (see
// TorchsdeName), with their shapes: what that module's load_state_dict takes, made with
// Config.TorchsdeArgs. averaged selects the SWA averages, as NetworkParams.
func (m *Model) TorchsdeStateDict(module string, averaged bool) (values map[string][]float32, shapes map[string][]int, err error) {
	if _, err := m.cfg.TorchsdeArgs(module); err != nil {
		return nil, nil, err
	}
	values, shapes = map[string][]float32{}, map[string][]int{}
	for name, v := range m.NetworkParams(averaged) {
		mod, key, err := TorchsdeName(name)
		if err != nil {
			return nil, nil, err
		}
		if mod != module {
			continue
		}
		values[key] = v
	}
	for _, t := range m.tensors {
		if mod, key, _ := TorchsdeName(t.name); mod == module {
			shapes[key] = append([]int(nil), t.shape...)
		}
	}
	return values, shapes, nil
}

// Generate runs the generator on noise the caller gives: the initial noise v
// (n×InitialNoise, path-major, for n paths) and the Brownian motion mo (n paths of
// NoiseDim channels over a span that covers the model's times), and returns Y at the
// model's times, n×T×C path-major, in the normalised units the model is trained in.
// averaged selects the SWA average of the generator, as Sample. It is Sample with the
// noise made by the caller, so that another implementation fed the same v and the
// same increments can be held to the same paths.
func (m *Model) Generate(v []float32, mo brownian.Motion, averaged bool) ([]float32, error) {
	I := m.cfg.InitialNoise
	if len(v) == 0 || len(v)%I != 0 {
		return nil, fmt.Errorf("gan: Generate: len(v) = %d; give n×%d initial noise values for n ≥ 1 paths", len(v), I)
	}
	n := len(v) / I
	if mo == nil || mo.Batch() != n || mo.Dim() != m.cfg.NoiseDim {
		return nil, fmt.Errorf("gan: Generate: the Brownian motion must have %d paths (len(v)/%d) of %d channels", n, I, m.cfg.NoiseDim)
	}
	if err := m.Sync(); err != nil {
		return nil, err
	}
	gp, _ := m.params(averaged)
	e := m.e
	e.ensureGen(n)
	copy(e.v, v)
	if _, _, err := e.generateFrom(n, gp, mo, true); err != nil {
		return nil, err
	}
	T, C := e.T, e.C
	out := make([]float32, n*T*C)
	for t := range T {
		for p := range n {
			copy(out[(p*T+t)*C:(p*T+t+1)*C], e.ys[(t*n+p)*C:(t*n+p+1)*C])
		}
	}
	return out, nil
}
