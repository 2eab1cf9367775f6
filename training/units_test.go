package training

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/dataset"
)

// writeSeries writes 40 series of T times in long CSV, channels price (positive,
// spanning two decades) and r (signed), with about 3% of the cells blank, the time of
// step k written by at(k). zero puts a reading of 0 into price.
func writeSeries(t *testing.T, T int, at func(k int) string, zero bool) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("series,t,price,r\n")
	for n := 0; n < 40; n++ {
		lp := rng.NormFloat64()
		for k := 0; k < T; k++ {
			lp += 0.3 * rng.NormFloat64()
			price := strconv.FormatFloat(10*math.Exp(lp), 'g', -1, 64)
			r := strconv.FormatFloat(rng.NormFloat64(), 'g', -1, 64)
			if k > 0 && k < T-1 && rng.Float64() < 0.03 {
				price = ""
			}
			if zero && n == 7 && k == 3 {
				price = "0"
			}
			fmt.Fprintf(&b, "%d,%s,%s,%s\n", n, at(k), price, r)
		}
	}
	path := filepath.Join(t.TempDir(), "series.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// The same data with its times in hours, in days (decimals, as a CSV holds them), in
// minutes and in seconds from an epoch trains to the same model: the same metrics, test
// loss and checkpoint, whatever the model; the checkpoint and the samples keep the
// data's times. The latent SDE's 30 times are longer than its horizon of 23 and are
// compressed onto it.
func TestSameModelInAnyTimeUnit(t *testing.T) {
	skipShort(t)
	units := []struct {
		name string
		at   func(k int) string
	}{
		{"hours", func(k int) string { return strconv.Itoa(k) }},
		{"days", func(k int) string { return strconv.FormatFloat(float64(k)/24, 'g', 10, 64) }},
		{"minutes", func(k int) string { return strconv.Itoa(60 * k) }},
		{"seconds", func(k int) string { return strconv.Itoa(1_700_000_000 + 3600*k) }},
	}
	for _, model := range Models {
		t.Run(model, func(t *testing.T) {
			var first *Result
			var firstParams map[string][]float32
			T := 12
			if model == "latent-sde" {
				T = 30
			}
			wantModel := make([]float64, T)
			for k := range wantModel {
				wantModel[k] = float64(k) * min(1, maxHorizon[model]/float64(T-1))
			}
			for _, u := range units {
				cfg := tiny()
				cfg.Model, cfg.Steps = model, 3
				cfg.Data = writeSeries(t, T, u.at, false)
				dir := t.TempDir()
				res, err := Run(context.Background(), cfg, dir, false, nil)
				if err != nil {
					t.Fatalf("%s: %v", u.name, err)
				}
				ck, err := Load(filepath.Join(dir, CheckpointFile))
				if err != nil {
					t.Fatal(err)
				}
				want := make([]float64, T)
				for k := range want {
					want[k], _ = strconv.ParseFloat(u.at(k), 64)
				}
				if !slices.Equal(ck.Times, want) {
					t.Errorf("%s: checkpoint times %v, want the data's %v", u.name, ck.Times, want)
				}
				if got := ck.TimeMap.ToModel(ck.Times); !slices.Equal(got, wantModel) {
					t.Errorf("%s: model times %v", u.name, got)
				}
				p, err := ck.Sample(5, 1)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(p.Times, want) {
					t.Errorf("%s: samples at %v, want the data's times %v", u.name, p.Times, want)
				}
				if first == nil {
					first, firstParams = res, ck.Params
					continue
				}
				a, b := first.Trained, res.Trained
				for _, m := range []struct {
					name string
					x, y float64
				}{{"mmd", a.MMD, b.MMD}, {"ks", a.KSMax, b.KSMax}, {"classifier", a.ClassifierAccuracy, b.ClassifierAccuracy},
					{"tstr", a.TSTRMSE, b.TSTRMSE}, {"test loss", first.TestLoss, res.TestLoss}} {
					if m.x != m.y {
						t.Errorf("%s: %s %v, in hours %v", u.name, m.name, m.y, m.x)
					}
				}
				for name, v := range firstParams {
					if !slices.Equal(v, ck.Params[name]) {
						t.Errorf("%s: tensor %s differs from the run in hours", u.name, name)
					}
				}
			}
		})
	}
}

// A log-transformed positive channel comes back positive in samples, through the
// checkpoint, while the signed channel stays signed; eval and the plots invert it.
func TestLogTransformThroughTheCheckpoint(t *testing.T) {
	for _, model := range []string{"latent-sde", "sde-gan"} {
		t.Run(model, func(t *testing.T) {
			cfg := tiny()
			cfg.Model, cfg.Steps = model, 4
			cfg.Data = writeSeries(t, 12, strconv.Itoa, false)
			cfg.Transforms = dataset.Transforms{{Kind: "log", Channel: "price"}}
			dir := t.TempDir()
			if _, err := Run(context.Background(), cfg, dir, false, nil); err != nil {
				t.Fatal(err)
			}
			ck, err := Load(filepath.Join(dir, CheckpointFile))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ck.Config.Transforms, cfg.Transforms) {
				t.Fatalf("checkpoint transforms %v, want %v", ck.Config.Transforms, cfg.Transforms)
			}
			saved, err := ReadConfig(dir)
			if err != nil || !slices.Equal(saved.Transforms, cfg.Transforms) {
				t.Fatalf("config.json transforms %v, %v", saved.Transforms, err)
			}
			p, err := ck.Sample(500, 2)
			if err != nil {
				t.Fatal(err)
			}
			negPrice, negR := 0, 0
			for n := 0; n < p.N; n++ {
				for k := 0; k < p.T(); k++ {
					if p.At(n, k, 0) <= 0 || math.IsNaN(p.At(n, k, 0)) {
						negPrice++
					}
					if p.At(n, k, 1) < 0 {
						negR++
					}
				}
			}
			if negPrice != 0 {
				t.Errorf("%d of %d sampled prices are not positive", negPrice, p.N*p.T())
			}
			if negR == 0 {
				t.Error("the untransformed signed channel came back without a negative value")
			}
			// Sampling in the model's units and mapping back by hand gives the same:
			// exp of the de-normalised log price.
			m, err := ck.Model()
			if err != nil {
				t.Fatal(err)
			}
			defer m.Close()
			raw, err := m.Sample(500, 2, m.SWACount() > 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < raw.N*raw.T(); i++ {
				want := math.Exp(raw.Values[2*i]*ck.Norm.Std[0] + ck.Norm.Mean[0])
				if got := p.Values[2*i]; math.Abs(got-want) > 1e-12*want {
					t.Fatalf("sample %d: price %v, want exp(%v·%v + %v) = %v", i, got, raw.Values[2*i], ck.Norm.Std[0], ck.Norm.Mean[0], want)
				}
			}
			if _, err := ck.Evaluate(cfg.Data, 64, 1); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLogTransformRefusals(t *testing.T) {
	zero := writeSeries(t, 12, strconv.Itoa, true)
	for _, c := range []struct {
		name string
		ts   dataset.Transforms
		want []string
	}{
		{"zero reading", dataset.Transforms{{Kind: "log", Channel: "price"}}, []string{`"price"`, "reading 0", "--log price=OFFSET"}},
		{"unknown channel", dataset.Transforms{{Kind: "log", Channel: "Close"}}, []string{`"Close"`, "the channels are price, r"}},
		{"signed channel", dataset.Transforms{{Kind: "log", Channel: "r", Offset: 0.5}}, []string{`"r"`, "--log r=OFFSET"}},
	} {
		cfg := tiny()
		cfg.Data, cfg.Transforms = zero, c.ts
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Run(context.Background(), cfg, dir, false, nil)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %q lacks %q", c.name, err, w)
			}
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("%s: the refused run left %s", c.name, dir)
		}
	}
	// With an offset the zero reading is accepted.
	cfg := tiny()
	cfg.Steps, cfg.Data = 1, zero
	cfg.Transforms = dataset.Transforms{{Kind: "log", Channel: "price", Offset: 1}}
	if _, err := Run(context.Background(), cfg, t.TempDir(), false, nil); err != nil {
		t.Fatalf("log(price + 1) with a zero price: %v", err)
	}
}

// The time map travels in the checkpoint; one written before it existed fed the model
// the data's own times, and loads with the identity map.
func TestCheckpointTimeMap(t *testing.T) {
	cfg := tiny()
	cfg.Steps = 1
	cfg.Data = writeSeries(t, 12, func(k int) string { return strconv.Itoa(100 + 5*k) }, false)
	dir := t.TempDir()
	if _, err := Run(context.Background(), cfg, dir, false, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, CheckpointFile)
	ck, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ck.TimeMap != (dataset.TimeMap{Offset: 100, Scale: 5, Step: 1}) {
		t.Fatalf("time map %+v, want offset 100, scale 5, step 1", ck.TimeMap)
	}
	f, err := checkpoint.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	delete(f.Metadata, metaTimeMap)
	old := filepath.Join(t.TempDir(), "old.safetensors")
	if err := checkpoint.Save(old, f); err != nil {
		t.Fatal(err)
	}
	if ck, err := Load(old); err != nil || ck.TimeMap != dataset.IdentityTimeMap {
		t.Fatalf("checkpoint without a time map: %+v, %v", ck.TimeMap, err)
	}
	f.Metadata[metaTimeMap] = `{"offset":0,"scale":0,"step":1}`
	if err := checkpoint.Save(old, f); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(old); err == nil || !strings.Contains(err.Error(), metaTimeMap) {
		t.Fatalf("a zero time scale: %v", err)
	}
}
