//go:build ignore

// Scores generated paths from a CSV (long format, data units) against the held-out
// paths of the built-in OU data set (seed 1) with gosde's metrics at metric seeds 1…5,
// and prints the median and range of each: how the README compares torchsde's example
// (scripts/torchsde-example.py) with gosde's own samples (gosde sample).
//
//	go run scripts/score-ou-csv.go samples.csv 1000
package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/metrics"
	"github.com/gosde/gosde/training"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "score-ou-csv:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: go run scripts/score-ou-csv.go FILE.csv N")
	}
	fake, err := dataset.LoadCSV(os.Args[1], dataset.CSVOptions{})
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(os.Args[2])
	if err != nil || n < 1 || n > fake.N {
		return fmt.Errorf("N must be between 1 and the file's %d paths", fake.N)
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	fake = dataset.Subset(fake, idx)
	data, err := training.LoadData(training.DefaultConfig())
	if err != nil {
		return err
	}
	data.Norm.Apply(fake)
	fake.Channels = data.Train.Channels
	names := []string{"mmd/floor", "ks_max", "ks_floor", "sig_cls", "raw_cls", "corr_gap", "inc_gap"}
	vals := map[string][]float64{}
	for s := uint64(1); s <= 5; s++ {
		r, err := metrics.Evaluate(data.Train, data.Test, fake, metrics.Options{Seed: s})
		if err != nil {
			return err
		}
		for k, v := range map[string]float64{"mmd/floor": r.MMD / r.MMDFloor, "ks_max": r.KSMax, "ks_floor": r.KSMaxFloor,
			"sig_cls": r.ClassifierAccuracy, "raw_cls": r.RawClassifierAccuracy, "corr_gap": r.CorrLastFirstMaxDiff,
			"inc_gap": r.IncrementStdMaxRelDiff} {
			vals[k] = append(vals[k], v)
		}
	}
	fmt.Printf("%s (%d paths):", os.Args[1], fake.N)
	for _, k := range names {
		v := slices.Sorted(slices.Values(vals[k]))
		fmt.Printf("  %s %.3f [%.3f–%.3f]", k, v[2], v[0], v[4])
	}
	fmt.Println()
	return nil
}
