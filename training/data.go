package training

import (
	"fmt"
	"os"

	"github.com/gosde/gosde/dataset"
)

// ouPaths is the size of the built-in OU data set (the torchsde example's).
const ouPaths = 8192

// Data is a training set and a held-out test set, both normalised with the
// training set's statistics and with missing readings interpolated.
type Data struct {
	Train, Test *dataset.Paths
	Norm        dataset.Normalization
	Name        string
}

// LoadData reads the data set named by spec: "ou" (generated from seed),
// "air-quality" (the Beijing data, found by dataset.DefaultAirQualityDir) or the path
// of a CSV file or of a directory holding the Beijing CSVs.
func LoadData(spec string, seed uint64) (*Data, error) {
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
	return &Data{Train: train, Test: test, Norm: norm, Name: spec}, nil
}
