package training

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/metrics"
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
	// Notes tell the user what was decided on reading the data: how dates became
	// times, series aligned, windows cut, how the test set was split off.
	Notes []string
}

// CSVConfig says how to read a CSV file given as the data (gosde train's flags of the
// same names); the zero value reads a comma-separated file with a header, detecting
// the layout and the columns. It is saved with the run so that resume and eval read
// the file the same way.
type CSVConfig struct {
	// Sep is the field separator, --csv-sep: "," (default), ";", "tab" (or "\t"), "|".
	Sep string `json:"sep,omitempty"`
	// Format is the layout, --csv-format: auto (default), long or wide.
	Format string `json:"format,omitempty"`
	// ID, Time and Columns name the series-id, time and value columns (--id-col,
	// --time-col, --columns); by position, 1, 2, …, when NoHeader.
	ID      string   `json:"id_col,omitempty"`
	Time    string   `json:"time_col,omitempty"`
	Columns []string `json:"columns,omitempty"`
	// TimeFormat is --time-format (see dataset.ParseTimeFormat).
	TimeFormat string `json:"time_format,omitempty"`
	// NoHeader is --no-header: the first row is data.
	NoHeader bool `json:"no_header,omitempty"`
	// Window and Stride cut every series into windows of Window points, Stride apart
	// (--window, --stride; 0: whole series, and Stride 0 is Window).
	Window int `json:"window,omitempty"`
	Stride int `json:"stride,omitempty"`
}

// IsZero reports whether c is the default (no CSV option given).
func (c CSVConfig) IsZero() bool {
	return c.Sep == "" && c.Format == "" && c.ID == "" && c.Time == "" && c.Columns == nil &&
		c.TimeFormat == "" && !c.NoHeader && c.Window == 0 && c.Stride == 0
}

// Options checks c and translates it for dataset.ReadCSVData.
func (c CSVConfig) Options() (dataset.CSVOptions, error) {
	o := dataset.CSVOptions{ID: c.ID, Time: c.Time, Columns: c.Columns, TimeFormat: c.TimeFormat,
		NoHeader: c.NoHeader, Window: c.Window, Stride: c.Stride}
	switch c.Sep {
	case "", ",":
	case ";":
		o.Comma = ';'
	case "tab", `\t`, "\t":
		o.Comma = '\t'
	case "|":
		o.Comma = '|'
	default:
		return o, fmt.Errorf("--csv-sep %q: use ',', ';', 'tab' or '|'", c.Sep)
	}
	switch c.Format {
	case "", "auto":
	case "long":
		o.Format = dataset.CSVLong
	case "wide":
		o.Format = dataset.CSVWide
	default:
		return o, fmt.Errorf("--csv-format %q: use auto, long or wide", c.Format)
	}
	if _, err := dataset.ParseTimeFormat(c.TimeFormat); err != nil {
		return o, strip(err)
	}
	switch {
	case c.Window < 0 || c.Window == 1:
		return o, fmt.Errorf("--window %d: a window needs at least 2 points (0: whole series)", c.Window)
	case c.Stride < 0:
		return o, fmt.Errorf("--stride %d: must be at least 1", c.Stride)
	case c.Stride > 0 && c.Window == 0:
		return o, fmt.Errorf("--stride needs --window")
	}
	for _, col := range c.Columns {
		if strings.TrimSpace(col) == "" {
			return o, fmt.Errorf("--columns %q: a column name is empty", strings.Join(c.Columns, ","))
		}
	}
	return o, nil
}

// strip drops the dataset package's prefix from a message meant for the command line.
func strip(err error) error {
	return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "dataset: csv: "))
}

// LoadData reads the data set cfg.Data: "ou" (generated from cfg.Seed), "air-quality"
// (the Beijing data, found by dataset.DefaultAirQualityDir) or the path of a CSV file
// (read as cfg.CSV says) or of a directory holding the Beijing CSVs, and splits it into
// training and test sets: OU and a CSV's independent series at random, 80/20 by path
// (seeded by cfg.Seed); windows cut from longer series, or series aligned from
// absolute time, by time (dataset.SplitBlocks: the last fifth of each series' windows
// is held out, those straddling the boundary dropped), so that no test window overlaps
// a training window; air quality by station. It applies cfg.Transforms and maps the
// times to the model's unit.
func LoadData(cfg Config) (*Data, error) {
	spec, seed := cfg.Data, cfg.Seed
	var train, test *dataset.Paths
	var notes []string
	if !cfg.CSV.IsZero() {
		if _, err := cfg.CSV.Options(); err != nil {
			return nil, err
		}
		if spec == "ou" || spec == "air-quality" {
			return nil, fmt.Errorf("the CSV options (--csv-sep, --window, …) apply to a CSV file given with --data, not to %s", spec)
		}
	}
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
			if !cfg.CSV.IsZero() {
				return nil, fmt.Errorf("%s is a directory of the Beijing CSVs: the CSV options (--csv-sep, --window, …) apply to one CSV file", spec)
			}
			if train, test, err = dataset.AirQuality(spec, dataset.AirQualityOptions{}); err != nil {
				return nil, err
			}
			break
		}
		opt, _ := cfg.CSV.Options()
		all, err := dataset.LoadCSVData(spec, opt)
		if err != nil {
			return nil, err
		}
		notes = all.Notes
		if train, test, notes, err = splitCSV(spec, all, seed, notes); err != nil {
			return nil, err
		}
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
	return &Data{Train: train, Test: test, Norm: norm, Transforms: cfg.Transforms, Time: tm, Times: times, Name: spec, Notes: notes}, nil
}

// minTestPaths is the fewest held-out paths the metrics accept (their real-vs-real
// floors compare two halves of the test set).
const minTestPaths = 2 * metrics.MinPaths

// splitCSV holds out a fifth of a CSV's paths: by time for windows, at random for
// independent series.
func splitCSV(spec string, all *dataset.CSVData, seed uint64, notes []string) (train, test *dataset.Paths, _ []string, err error) {
	if all.Origins == nil {
		train, test = dataset.Split(all.Paths, 0.8, seed^0x5eed)
		if test.N < minTestPaths || train.N < metrics.MinPaths {
			need := minTestPaths
			for need-int(math.Round(0.8*float64(need))) < minTestPaths {
				need++
			}
			return nil, nil, nil, fmt.Errorf("%s holds %d series; training needs at least %d, so that the 20%% held out for "+
				"evaluation has the %d paths the metrics need (one long series can be cut into many with --window)", spec, all.N, need, minTestPaths)
		}
		notes = append(notes, fmt.Sprintf("split: %d series for training, %d held out for evaluation, at random (--seed)", train.N, test.N))
		return train, test, notes, nil
	}
	train, test, dropped, err := dataset.SplitBlocks(all.Paths, all.Origins, 0.8)
	if err != nil {
		return nil, nil, nil, err
	}
	if test.N < minTestPaths || train.N < metrics.MinPaths {
		return nil, nil, nil, fmt.Errorf("%s: %d windows, split by time: %d for training and %d held out (%d overlap both and are left out); "+
			"the metrics need at least %d held out and %d for training: give a smaller --window or --stride for more windows",
			spec, all.N, train.N, test.N, dropped, minTestPaths, metrics.MinPaths)
	}
	note := fmt.Sprintf("split by time: the last fifth of each series' windows, %d, held out for evaluation, %d for training", test.N, train.N)
	if dropped > 0 {
		note += fmt.Sprintf(", %d overlapping both left out", dropped)
	}
	return train, test, append(notes, note), nil
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
