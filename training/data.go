package training

import (
	"fmt"
	"os"
	"slices"

	"github.com/gosde/gosde/dataset"
)

// ouPaths is the size of the built-in OU data set (the torchsde example's).
const ouPaths = 8192

// Data is a training set and a held-out test set, as the models see them: channels
// transformed (Transforms), missing readings interpolated, values normalised with the
// training set's statistics (Norm), times in the model's unit (Time).
type Data struct {
	Train, Test *dataset.Paths
	Norm        dataset.Normalization
	Transforms  dataset.Transforms
	// Time maps the data's own times to the model's: Train.Times = Time.ToModel(Times).
	Time dataset.TimeMap
	// Times are the observation times in the data's own unit.
	Times []float64
	Name  string
}

// LoadData reads the data set named by cfg.Data: "ou" (generated from cfg.Seed),
// "air-quality" (the Beijing data, found by dataset.DefaultAirQualityDir) or the path
// of a CSV file or of a directory holding the Beijing CSVs; it applies cfg.Transforms.
func LoadData(cfg Config) (*Data, error) {
	spec, seed := cfg.Data, cfg.Seed
	var train, test *dataset.Paths
	switch spec {
	case "":
		return nil, fmt.Errorf("no data set given: use ou, air-quality or the path of a CSV file")
	case "ou":
		all := dataset.OU(ouPaths, seed)
		train, test = dataset.Split(all, 0.8, seed^0x5eed)
	case "air-quality":
		dir, err := dataset.DefaultAirQualityDir()
		if err != nil {
			return nil, err
		}
		if train, test, err = dataset.AirQuality(dir, dataset.AirQualityOptions{}); err != nil {
			return nil, err
		}
	default:
		st, err := os.Stat(spec)
		if err != nil {
			return nil, fmt.Errorf("data %q is neither ou, air-quality nor a readable file: %w", spec, err)
		}
		if st.IsDir() {
			if train, test, err = dataset.AirQuality(spec, dataset.AirQualityOptions{}); err != nil {
				return nil, err
			}
			break
		}
		all, err := dataset.LoadCSV(spec, dataset.CSVOptions{})
		if err != nil {
			return nil, err
		}
		if all.N < 8 {
			return nil, fmt.Errorf("%s holds %d series; training needs at least 8 (20%% are held out for evaluation)", spec, all.N)
		}
		train, test = dataset.Split(all, 0.8, seed^0x5eed)
	}
	// Transformed before the interpolation, so that a missing reading is filled in the
	// space the model works in (a log channel geometrically), and while the times are
	// the data's, which a refusal names.
	for _, p := range []*dataset.Paths{train, test} {
		if err := cfg.Transforms.Apply(p); err != nil {
			return nil, err
		}
	}
	// The models see time in a unit of their own, so that the data's unit (months,
	// years, seconds) does not change the model; the map is the identity on OU's and
	// air quality's 0…T−1. Mapped before the interpolation, so that it weighs the
	// readings alike in every unit.
	times := slices.Clone(train.Times)
	tm := modelTimeMap(cfg.Model, times)
	train.Times = tm.ToModel(times)
	test.Times = tm.ToModel(test.Times)
	for _, p := range []*dataset.Paths{train, test} {
		if err := dataset.FillLinear(p); err != nil {
			return nil, fmt.Errorf("interpolating missing readings: %w", err)
		}
	}
	// The OU set is normalised like the torchsde SDE-GAN example, with the mean and
	// standard deviation of the initial values, so that the paths' growth over time
	// stays in the data; every other set per channel over all times.
	fit := dataset.Fit
	if spec == "ou" {
		fit = dataset.FitInitial
	}
	norm, err := fit(train)
	if err != nil {
		return nil, err
	}
	norm.Apply(train)
	norm.Apply(test)
	return &Data{Train: train, Test: test, Norm: norm, Transforms: cfg.Transforms, Time: tm, Times: times, Name: spec}, nil
}

// maxHorizon is, per model, the longest span of time a model sees. Up to it the models
// see the data's grid with unit steps (0…T−1); a longer series is compressed onto
// [0, maxHorizon]. An untrained neural SDE's paths grow about as exp(L·horizon), L its
// networks' Lipschitz constant: the latent SDE's prior, sampled at initialisation,
// reaches 14–189 normalised units over 23 unit steps, 54–2.4e5 over 63 and 2.8e3–6.5e10
// over 119 (four seeds), and monthly sunspot windows of 120 months diverged at step 1
// over 0…119 but trained over 0…23. The horizons are those the models' defaults were
// chosen on: the SDE-GAN's OU set (0…63, the torchsde example) and the latent SDE's air
// quality (one day, 0…23); both sets keep their own times.
var maxHorizon = map[string]float64{"sde-gan": 63, "sde-sigker": 63, "latent-sde": 23}

// modelTimeMap is the map from the data's times to the unit model sees: the grid's
// steps as unit steps, compressed onto [0, maxHorizon[model]] for a longer series.
func modelTimeMap(model string, times []float64) dataset.TimeMap {
	h := float64(len(times) - 1)
	if m, ok := maxHorizon[model]; ok && h > m {
		h = m
	}
	return dataset.TimeMapOnto(times, h)
}

// toDataUnits maps paths in the model's units (normalised, transformed, model time)
// back to the data's own, in place.
func (d *Data) toDataUnits(p *dataset.Paths) error {
	return toDataUnits(p, d.Norm, d.Transforms, d.Times)
}

// toDataUnits inverts the normalisation, then the transforms, and puts the data's own
// times in place of the model's.
func toDataUnits(p *dataset.Paths, norm dataset.Normalization, ts dataset.Transforms, times []float64) error {
	if len(times) != p.T() {
		return fmt.Errorf("paths of %d times for a model of %d", p.T(), len(times))
	}
	norm.Invert(p)
	if err := ts.Invert(p); err != nil {
		return err
	}
	p.Times = slices.Clone(times)
	return nil
}
