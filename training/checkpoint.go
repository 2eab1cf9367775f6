package training

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/metrics"
	"github.com/gosde/gosde/paramset"
)

// Metadata keys of a gosde checkpoint (safetensors "__metadata__", strings).
const (
	metaModel     = "gosde.model"
	metaConfig    = "gosde.config"
	metaNorm      = "gosde.normalization"
	metaChannels  = "gosde.channels"
	metaTimes     = "gosde.times"
	metaTimeMap   = "gosde.time_map"
	metaHistory   = "gosde.history"
	metaUntrained = "gosde.untrained_metrics"
)

// Checkpoint is a trained model with everything needed to resume its training or to
// sample from it in the data's own units.
type Checkpoint struct {
	Config   Config
	Params   map[string][]float32
	Norm     dataset.Normalization
	Channels []string
	// Times are the observation times in the data's own unit; TimeMap maps them to the
	// model's (TimeMap.ToModel(Times) are the times the model was built for).
	Times     []float64
	TimeMap   dataset.TimeMap
	History   history
	Untrained *metrics.Report
	// Engine computes Sample and Evaluate (opened with host.Open); nil selects the
	// CPU engine. Load leaves it nil; whoever sets it closes it.
	Engine host.Engine
}

// Save writes the model's parameters, optimiser state and averages as float32 tensors
// (loadable with safetensors.numpy.load_file) with the run's configuration (which holds
// the transforms), the data's normalisation, channel names, times (in the data's unit)
// and the map of those times to the model's in the metadata, atomically.
func Save(path string, model model, cfg Config, data *Data, hist history, untrained *metrics.Report) error {
	// A model training on a device keeps its state there; a failed copy must fail the
	// save, not write a stale state under the current step.
	if s, ok := model.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return err
		}
	}
	f := checkpoint.File{Tensors: map[string]checkpoint.Tensor{}, Metadata: map[string]string{metaModel: cfg.Model}}
	shapes := model.Shapes()
	for name, v := range model.Params() {
		if paramset.IsCounter(name) {
			// An integer, exact however long the run (a float32 is exact to 2^24 only).
			n, ok := paramset.DecodeCounter(v)
			if !ok {
				return fmt.Errorf("saving: counter %s = %v is not a count", name, v)
			}
			f.Tensors[name] = checkpoint.Tensor{Shape: []int{1}, I64: []int64{int64(n)}}
			continue
		}
		f.Tensors[name] = checkpoint.Tensor{Shape: shapes[name], F32: v}
	}
	for key, v := range map[string]any{metaConfig: cfg, metaNorm: data.Norm, metaChannels: data.Train.Channels,
		metaTimes: data.Times, metaTimeMap: data.Time, metaHistory: hist, metaUntrained: untrained} {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		f.Metadata[key] = string(b)
	}
	return checkpoint.Save(path, f)
}

// Load reads a checkpoint written by Save.
func Load(path string) (*Checkpoint, error) {
	f, err := checkpoint.Load(path)
	if err != nil {
		return nil, err
	}
	if m := f.Metadata[metaModel]; !slices.Contains(Models, m) {
		return nil, fmt.Errorf("%s is not a gosde checkpoint (model %q; gosde writes %v)", path, m, Models)
	}
	ck := &Checkpoint{Params: map[string][]float32{}, TimeMap: dataset.IdentityTimeMap}
	// Checkpoints written before the time map fed the models the data's own times.
	if s, ok := f.Metadata[metaTimeMap]; ok {
		if err := json.Unmarshal([]byte(s), &ck.TimeMap); err != nil {
			return nil, fmt.Errorf("%s: metadata %q: %w", path, metaTimeMap, err)
		}
		if err := ck.TimeMap.Check(); err != nil {
			return nil, fmt.Errorf("%s: metadata %q: %w", path, metaTimeMap, err)
		}
	}
	ck.Config = DefaultConfig() // what the file leaves out (the other model's settings)
	for key, dst := range map[string]any{metaConfig: &ck.Config, metaNorm: &ck.Norm, metaChannels: &ck.Channels,
		metaTimes: &ck.Times, metaHistory: &ck.History, metaUntrained: &ck.Untrained} {
		s, ok := f.Metadata[key]
		if !ok {
			return nil, fmt.Errorf("%s lacks the metadata %q: it was not written by gosde train", path, key)
		}
		if err := json.Unmarshal([]byte(s), dst); err != nil {
			return nil, fmt.Errorf("%s: metadata %q: %w", path, key, err)
		}
	}
	for name, t := range f.Tensors {
		if paramset.IsCounter(name) {
			n, err := counter(t)
			if err != nil {
				return nil, fmt.Errorf("%s: tensor %q: %w", path, name, err)
			}
			ck.Params[name] = paramset.EncodeCounter(n)
			continue
		}
		if t.F32 == nil {
			return nil, fmt.Errorf("%s: tensor %q is not float32", path, name)
		}
		ck.Params[name] = t.F32
	}
	// The times and channels size everything a model built from the file allocates:
	// no run trained on more than a CSV file can hold (a file could list millions).
	if err := (&dataset.Paths{Times: ck.Times, Channels: ck.Channels}).Validate(); err != nil {
		return nil, fmt.Errorf("%s: metadata %q and %q: %w", path, metaTimes, metaChannels, err)
	}
	if len(ck.Times) < 2 || len(ck.Times)*len(ck.Channels) > dataset.MaxCSVValues {
		return nil, fmt.Errorf("%s: metadata: %d times × %d channels; a gosde model has at least 2 times and at most %d values per path",
			path, len(ck.Times), len(ck.Channels), dataset.MaxCSVValues)
	}
	if len(ck.Norm.Mean) != len(ck.Channels) || len(ck.Norm.Std) != len(ck.Channels) {
		return nil, fmt.Errorf("%s: normalisation of %d channels for %d channel names", path, len(ck.Norm.Mean), len(ck.Channels))
	}
	if err := ck.Config.Transforms.Check(ck.Channels); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ck, nil
}

// counter reads a training counter: one int64 (one float32 in checkpoints written before
// the counters were stored exactly, when they could not pass 2^24).
func counter(t checkpoint.Tensor) (int, error) {
	switch {
	case len(t.I64) == 1 && t.I64[0] >= 0 && t.I64[0] <= paramset.MaxCounter:
		return int(t.I64[0]), nil
	case len(t.F32) == 1 && t.F32[0] >= 0 && t.F32[0] <= 1<<24 && t.F32[0] == float32(math.Trunc(float64(t.F32[0]))):
		return int(t.F32[0]), nil
	}
	return 0, fmt.Errorf("not a count from 0 to %d", paramset.MaxCounter)
}

// Model rebuilds the checkpoint's model with its parameters, on ck.Engine. Close it
// when done.
func (ck *Checkpoint) Model() (model, error) {
	cfg := ck.Config
	m, err := newModel(&cfg, len(ck.Channels), ck.TimeMap.ToModel(ck.Times), ck.Engine)
	if err != nil {
		return nil, fmt.Errorf("checkpoint configuration: %w", err)
	}
	if err := m.SetParams(ck.Params); err != nil {
		m.Close()
		return nil, fmt.Errorf("checkpoint parameters: %w", err)
	}
	return m, nil
}

// Sample generates n paths from the checkpoint's model (its weight average once
// averaging has begun) in the data's own units and at the data's own times, with the
// data's channel names.
func (ck *Checkpoint) Sample(n int, seed uint64) (*dataset.Paths, error) {
	if n < 1 {
		return nil, fmt.Errorf("number of paths must be at least 1, got %d", n)
	}
	if err := checkSampleMemory(EstimateSampleMemory(ck.Config, len(ck.Times), len(ck.Channels), n, 1, false), n); err != nil {
		return nil, err
	}
	m, err := ck.Model()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	p, err := m.Sample(n, seed, m.SWACount() > 0)
	if err != nil {
		return nil, err
	}
	p.Channels = append([]string(nil), ck.Channels...)
	if err := toDataUnits(p, ck.Norm, ck.Config.Transforms, ck.Times); err != nil {
		return nil, err
	}
	return p, nil
}

// CheckSampleMemory refuses, before anything is allocated, n paths that would not fit
// in the available memory together with their CSV text (what gosde sample holds).
func (ck *Checkpoint) CheckSampleMemory(n int) error {
	return checkSampleMemory(EstimateSampleMemory(ck.Config, len(ck.Times), len(ck.Channels), n, 1, true), n)
}

// Evaluate compares n generated paths with the held-out part of the data set spec (in
// the model's units: the checkpoint's transforms and normalisation, the model's time)
// and returns the metrics, measured as Run measures the trained model (EvalDraws
// draws, sample and metric seeds derived from seed): with the run's own data,
// EvalPaths and Seed it gives the report Run gave. A CSV file is read and split as the
// run read its own (Config.CSV).
func (ck *Checkpoint) Evaluate(spec string, n int, seed uint64) (metrics.Report, error) {
	if n < metrics.MinPaths {
		return metrics.Report{}, fmt.Errorf("number of generated paths must be at least %d, got %d", metrics.MinPaths, n)
	}
	cfg := ck.Config
	if spec != cfg.Data && (spec == "ou" || spec == "air-quality") {
		cfg.CSV = CSVConfig{} // the built-in sets have no CSV options
	}
	cfg.Data = spec
	// The generated paths alone, before the data is read, then with it.
	e := EstimateSampleMemory(ck.Config, len(ck.Times), len(ck.Channels), n, EvalDraws, false)
	if err := checkSampleMemory(e, n); err != nil {
		return metrics.Report{}, err
	}
	data, err := LoadData(cfg)
	if err != nil {
		return metrics.Report{}, err
	}
	if data.Train.C() != len(ck.Channels) || data.Train.T() != len(ck.Times) {
		return metrics.Report{}, fmt.Errorf("data %q has %d times × %d channels; the checkpoint's model makes %d × %d",
			spec, data.Train.T(), data.Train.C(), len(ck.Times), len(ck.Channels))
	}
	e.Data = float64(len(data.Train.Values)+len(data.Test.Values)) * 8
	if err := checkSampleMemory(e, n); err != nil {
		return metrics.Report{}, err
	}
	// Measure in the checkpoint's units, whatever statistics the data gives now; when
	// they are the run's own, leave the values untouched (a round trip through the
	// data's units would change their last bits).
	if !slices.Equal(data.Norm.Mean, ck.Norm.Mean) || !slices.Equal(data.Norm.Std, ck.Norm.Std) {
		for _, p := range []*dataset.Paths{data.Train, data.Test} {
			data.Norm.Invert(p)
			ck.Norm.Apply(p)
		}
	}
	m, err := ck.Model()
	if err != nil {
		return metrics.Report{}, err
	}
	defer m.Close()
	rep, _, err := evaluate(context.Background(), m, data, n, seed, true, EvalDraws)
	return rep, err
}
