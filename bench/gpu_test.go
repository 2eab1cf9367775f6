package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
)

func TestNotMeasuredJSON(t *testing.T) {
	rep := Report{Figures: []Figure{
		NotMeasured("engine.gpu_over_cpu", "ratio", "reported", "not measured: no GPU"),
		NewFigure("x", 1.5, "ratio", "<= 2"),
	}}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Figures []map[string]any `json:"figures"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	nm, m := back.Figures[0], back.Figures[1]
	if v, ok := nm["value"]; !ok || v != nil {
		t.Errorf("an unmeasured figure's value must be present and null, got %v (present %v)", v, ok)
	}
	if nm["meets"] != false || nm["note"] != "not measured: no GPU" || nm["goal"] != "reported" {
		t.Errorf("unmeasured figure %v: want meets false, the note and the goal", nm)
	}
	if m["value"] != 1.5 || m["meets"] != true {
		t.Errorf("measured figure %v", m)
	}
	if _, ok := m["note"]; ok {
		t.Errorf("a figure without a note has a note key: %s", b)
	}
	var text bytes.Buffer
	rep.WriteText(&text)
	if !strings.Contains(text.String(), "not measured") || !strings.Contains(text.String(), "no GPU") {
		t.Errorf("text output does not say the figure was not measured and why:\n%s", text.String())
	}
}

func TestThisMachineNamesGPU(t *testing.T) {
	if g := ThisMachine().GPU; g == "" {
		t.Fatal("the machine's GPU field is empty; want a name or \"none\"")
	}
}

func byName(figs []Figure) map[string]Figure {
	m := map[string]Figure{}
	for _, f := range figs {
		m[f.Name] = f
	}
	return m
}

// Without a GPU engine the GPU figures are present, null and say why; with an engine
// (here the CPU engine standing in for one) they are measured.
func TestGPUFigures(t *testing.T) {
	noGPU := errors.New("no device here")
	for _, c := range []struct {
		name    string
		open    func() (host.Engine, error)
		measure bool
	}{
		{"default", nil, host.Check("gpu") == nil},
		{"failing", func() (host.Engine, error) { return nil, noGPU }, false},
		{"stand-in", func() (host.Engine, error) { return host.NewCPU(), nil }, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Settings{Quick: true, Repeats: 1, Seed: 3, OpenGPU: c.open}
			_, efigs, err := engineGPU(s, 8)
			if err != nil {
				t.Fatal(err)
			}
			cfg := gan.DefaultConfig()
			cfg.Batch = 8
			grep, err := ganSteps(s, cfg)
			if err != nil {
				t.Fatal(err)
			}
			figs := byName(append(efigs, grep.Figures...))
			for _, name := range []string{"engine.gpu_over_cpu", "engine.gpu_generator_solve_ms", "gan.steps_per_second_gpu", "gan.gpu_over_cpu"} {
				f, ok := figs[name]
				switch {
				case !ok:
					t.Errorf("figure %s missing", name)
				case f.Goal == "":
					t.Errorf("figure %s has no goal", name)
				case c.measure && (f.Value == nil || !(*f.Value > 0)):
					t.Errorf("figure %s: want a positive value, got %+v", name, f)
				case !c.measure && (f.Value != nil || f.Meets == nil || *f.Meets || f.Note == ""):
					t.Errorf("figure %s: want null, not met, with a note; got %+v", name, f)
				}
				if c.name == "failing" && !strings.Contains(f.Note, noGPU.Error()) {
					t.Errorf("figure %s: the note %q does not carry the engine's error", name, f.Note)
				}
			}
			if g := figs["gan.steps_per_second_gpu"].Goal; g != ">= 200" {
				t.Errorf("gan.steps_per_second_gpu goal %q, want >= 200 (5 ms a step)", g)
			}
			for _, name := range []string{"engine.cpu_generator_solve_ms", "gan.steps_per_second_cpu"} {
				if f := figs[name]; f.Value == nil {
					t.Errorf("CPU figure %s not measured", name)
				}
			}
		})
	}
}

func TestPlotsWritePNGs(t *testing.T) {
	dir := t.TempDir()
	rep, files, err := plotsAt(Settings{Repeats: 1, Seed: 2}, dir, []int{2, 8}, 4, []int{4, 16})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(PlotFiles) || len(rep.Tables) != 3 {
		t.Fatalf("wrote %v with %d tables", files, len(rep.Tables))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s is not a PNG: %v", f, err)
		}
		if r := img.Bounds(); r.Dx() < 300 || r.Dy() < 200 {
			t.Errorf("%s is only %v", f, r.Size())
		}
	}
}

// BenchmarkGeneratorSolve times what engine.gpu_over_cpu compares: the generator's
// forward+adjoint solve, batch 1024, 64 steps, on the CPU engine and, in a binary built
// with -tags cuda on a GPU machine, on the GPU engine.
func BenchmarkGeneratorSolve(b *testing.B) {
	for _, device := range []string{"cpu", "gpu"} {
		b.Run(device, func(b *testing.B) {
			eng, err := host.Open(device)
			if err != nil {
				b.Skip(err)
			}
			defer eng.Close()
			solve, closeSolver, err := newGeneratorSolve(eng, 1024, 64, 1)
			if err != nil {
				b.Fatal(err)
			}
			defer closeSolver()
			var total time.Duration
			for b.Loop() {
				d, err := solve()
				if err != nil {
					b.Fatal(err)
				}
				total += d
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(b.N)/1e6, "ms/solve")
		})
	}
}
