package gan

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/internal/seeds"
)

func TestTorchsdeName(t *testing.T) {
	cases := []struct{ name, module, key string }{
		{"generator.initial.0.weight", "generator", "_initial._model.0.weight"},
		{"generator.initial.2.bias", "generator", "_initial._model.2.bias"},
		{"generator.drift.4.weight", "generator", "_func._drift._model.4.weight"},
		{"generator.diffusion.0.bias", "generator", "_func._diffusion._model.0.bias"},
		{"generator.readout.weight", "generator", "_readout.weight"},
		{"discriminator.initial.0.weight", "discriminator", "_initial._model.0.weight"},
		{"discriminator.field.2.weight", "discriminator", "_func._module._model.2.weight"},
		{"discriminator.readout.bias", "discriminator", "_readout.bias"},
	}
	for _, c := range cases {
		module, key, err := TorchsdeName(c.name)
		if err != nil || module != c.module || key != c.key {
			t.Errorf("TorchsdeName(%q) = %q, %q, %v; want %q, %q", c.name, module, key, err, c.module, c.key)
		}
	}
	for _, bad := range []string{"swa.generator.readout.weight", "opt.square_avg.generator.drift.0.weight", "generator.readout.", "state.step", "generator.noise.0.weight"} {
		if _, _, err := TorchsdeName(bad); err == nil {
			t.Errorf("TorchsdeName(%q) is not an error", bad)
		}
	}
}

func TestTorchsdeArgs(t *testing.T) {
	c := DefaultConfig()
	g, err := c.TorchsdeArgs(TorchsdeGenerator)
	want := map[string]int{"data_size": 1, "initial_noise_size": 5, "noise_size": 3, "hidden_size": 16, "mlp_size": 16, "num_layers": 1}
	if err != nil || !maps.Equal(g, want) {
		t.Errorf("generator arguments %v, %v; want the example's defaults %v", g, err, want)
	}
	d, err := c.TorchsdeArgs(TorchsdeDiscriminator)
	want = map[string]int{"data_size": 1, "hidden_size": 16, "mlp_size": 16, "num_layers": 1}
	if err != nil || !maps.Equal(d, want) {
		t.Errorf("discriminator arguments %v, %v; want %v", d, err, want)
	}
	for _, tc := range []struct {
		cfg    Config
		module string
		want   string
	}{
		{Config{Depth: 0}, TorchsdeGenerator, "at least one hidden layer"},
		{DefaultSigKer(), TorchsdeDiscriminator, "no discriminator"},
		{DefaultConfig(), "Generator", "unknown module"},
	} {
		if _, err := tc.cfg.TorchsdeArgs(tc.module); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("TorchsdeArgs(%q) at depth %d: %v, want an error mentioning %q", tc.module, tc.cfg.Depth, err, tc.want)
		}
	}
}

// The state dicts hold exactly the keys and shapes of the example's modules (a depth
// of 2 numbers the layers 0, 2, 4) and the values of NetworkParams.
func TestTorchsdeStateDict(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataChannels, cfg.Depth, cfg.Batch = 2, 2, 8
	m, err := New(cfg, uniformTimes(5))
	if err != nil {
		t.Fatal(err)
	}
	gen, gshapes, err := m.TorchsdeStateDict(TorchsdeGenerator, false)
	if err != nil {
		t.Fatal(err)
	}
	wantGen := map[string][]int{
		"_initial._model.0.weight": {16, 5}, "_initial._model.0.bias": {16},
		"_initial._model.2.weight": {16, 16}, "_initial._model.2.bias": {16},
		"_initial._model.4.weight": {16, 16}, "_initial._model.4.bias": {16},
		"_func._drift._model.0.weight": {16, 17}, "_func._drift._model.0.bias": {16},
		"_func._drift._model.2.weight": {16, 16}, "_func._drift._model.2.bias": {16},
		"_func._drift._model.4.weight": {16, 16}, "_func._drift._model.4.bias": {16},
		"_func._diffusion._model.0.weight": {16, 17}, "_func._diffusion._model.0.bias": {16},
		"_func._diffusion._model.2.weight": {16, 16}, "_func._diffusion._model.2.bias": {16},
		"_func._diffusion._model.4.weight": {48, 16}, "_func._diffusion._model.4.bias": {48},
		"_readout.weight": {2, 16}, "_readout.bias": {2},
	}
	if !maps.EqualFunc(gshapes, wantGen, slices.Equal) {
		t.Errorf("generator shapes\n%v\nwant\n%v", gshapes, wantGen)
	}
	disc, dshapes, err := m.TorchsdeStateDict(TorchsdeDiscriminator, false)
	if err != nil {
		t.Fatal(err)
	}
	wantDisc := map[string][]int{
		"_initial._model.0.weight": {16, 3}, "_initial._model.0.bias": {16},
		"_initial._model.2.weight": {16, 16}, "_initial._model.2.bias": {16},
		"_initial._model.4.weight": {16, 16}, "_initial._model.4.bias": {16},
		"_func._module._model.0.weight": {16, 17}, "_func._module._model.0.bias": {16},
		"_func._module._model.2.weight": {16, 16}, "_func._module._model.2.bias": {16},
		"_func._module._model.4.weight": {48, 16}, "_func._module._model.4.bias": {48},
		"_readout.weight": {1, 16}, "_readout.bias": {1},
	}
	if !maps.EqualFunc(dshapes, wantDisc, slices.Equal) {
		t.Errorf("discriminator shapes\n%v\nwant\n%v", dshapes, wantDisc)
	}
	net := m.NetworkParams(false)
	for _, p := range []struct {
		dict       map[string][]float32
		key, gosde string
	}{
		{gen, "_func._diffusion._model.4.weight", "generator.diffusion.4.weight"},
		{gen, "_initial._model.0.bias", "generator.initial.0.bias"},
		{gen, "_readout.weight", "generator.readout.weight"},
		{disc, "_func._module._model.2.weight", "discriminator.field.2.weight"},
		{disc, "_readout.bias", "discriminator.readout.bias"},
	} {
		if !slices.Equal(p.dict[p.key], net[p.gosde]) || len(p.dict[p.key]) == 0 {
			t.Errorf("%s is not %s", p.key, p.gosde)
		}
	}
	for k, v := range gen {
		if len(v) != size(gshapes[k]) {
			t.Errorf("%s: %d values for shape %v", k, len(v), gshapes[k])
		}
	}
}

func size(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// Generate with the noise Sample draws gives Sample's paths exactly.
func TestGenerateIsSampleWithGivenNoise(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Hidden, cfg.Width, cfg.Batch = 6, 6, 8
	times := uniformTimes(9)
	m, err := New(cfg, times)
	if err != nil {
		t.Fatal(err)
	}
	const n, seed = 5, 17
	want, err := m.Sample(n, seed, false)
	if err != nil {
		t.Fatal(err)
	}
	m.e.ensureGen(n)
	m.e.noise(n, seeds.Derive(seed, streamSampleV, 0), 0)
	v := append([]float32(nil), m.e.v[:n*cfg.InitialNoise]...)
	mo, err := brownian.NewInterval(times[0], times[len(times)-1], n, cfg.NoiseDim, seeds.Derive(seed, streamSampleBM, 0))
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.Generate(v, mo, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want.Values) {
		t.Fatalf("%d values, Sample %d", len(got), len(want.Values))
	}
	for i, w := range want.Values {
		if float64(got[i]) != w {
			t.Fatalf("value %d: Generate %v, Sample %v", i, got[i], w)
		}
	}
	bad := []struct {
		v    []float32
		mo   brownian.Motion
		want string
	}{
		{v[:7], mo, "len(v) = 7"},
		{nil, mo, "len(v) = 0"},
		{v[:4*cfg.InitialNoise], mo, "must have 4 paths"},
		{v, nil, "must have 5 paths"},
	}
	for _, b := range bad {
		if _, err := m.Generate(b.v, b.mo, false); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("Generate: %v, want an error mentioning %q", err, b.want)
		}
	}
}
