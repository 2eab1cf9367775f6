package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/gosde/gosde/bench"
	"github.com/spf13/cobra"
)

// experiments maps the names `gosde bench` accepts to what they run, in the order `all`
// runs them.
var experiments = []struct {
	name string
	run  func(bench.Settings) (bench.Report, error)
}{
	{"brownian", bench.Brownian},
	{"solvers", bench.Solvers},
	{"memory", bench.Memory},
	{"engine", bench.Engine},
	{"gan", bench.GAN},
}

func experimentNames() []string {
	var names []string
	for _, e := range experiments {
		names = append(names, e.name)
	}
	return names
}

func newBenchCommand() *cobra.Command {
	var (
		asJSON bool
		s      bench.Settings
	)
	cmd := &cobra.Command{
		Use:   "bench [" + strings.Join(append(experimentNames(), "all"), "|") + "]",
		Short: "Measure speed and accuracy claims as ratios in one run",
		Long: `bench repeats each experiment, reports medians, and reports every comparison as a
ratio of two quantities measured in the same run, with the goal it is held to.

  brownian  Brownian Interval vs Virtual Brownian Tree vs Brownian Path vs raw normals:
            a forward then reverse sweep of 1000 steps at several batch sizes
  solvers   reversible Heun + algebraic adjoint vs midpoint + continuous adjoint vs
            backprop on the SDE-GAN generator: time and gradient error
  memory    what Solve+Backward allocates from 100 to 10,000 steps, per adjoint
  engine    the CPU engine's MLP throughput against mlp_limit.c (needs gcc), and the
            generator's forward+adjoint solve on the GPU engine against the CPU engine
            (GPU figures are null, with a note, without a GPU or a -tags cuda build)
  gan       SDE-GAN training steps per second at the reference settings, CPU and GPU

"gosde bench plots --out DIR" draws cost against batch and memory against steps.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			which := "all"
			if len(args) == 1 {
				which = args[0]
			}
			if which != "all" && !slices.Contains(experimentNames(), which) {
				return fmt.Errorf("unknown experiment %q: choose one of %s or all",
					which, strings.Join(experimentNames(), ", "))
			}
			if s.Repeats < 0 {
				return fmt.Errorf("--repeats must be positive, got %d", s.Repeats)
			}
			report := bench.Report{Machine: bench.ThisMachine()}
			for _, e := range experiments {
				if which != "all" && which != e.name {
					continue
				}
				if !asJSON {
					fmt.Fprintf(os.Stderr, "running %s…\n", e.name)
				}
				r, err := e.run(s)
				if err != nil {
					return fmt.Errorf("bench %s: %w", e.name, err)
				}
				report.Figures = append(report.Figures, r.Figures...)
				report.Tables = append(report.Tables, r.Tables...)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(report)
			}
			report.WriteText(cmd.OutOrStdout())
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document {machine, figures, tables}")
	addSettingsFlags(cmd, &s)
	cmd.AddCommand(newBenchPlotsCommand())
	return cmd
}

func addSettingsFlags(cmd *cobra.Command, s *bench.Settings) {
	cmd.Flags().BoolVar(&s.Quick, "quick", false, "smaller sizes and fewer repeats")
	cmd.Flags().IntVar(&s.Repeats, "repeats", 0, "timed repetitions per measurement (default: per experiment)")
	cmd.Flags().Uint64Var(&s.Seed, "seed", 1, "seed of every random draw")
}

func newBenchPlotsCommand() *cobra.Command {
	var (
		s   bench.Settings
		out string
	)
	cmd := &cobra.Command{
		Use:   "plots --out DIR",
		Short: "Measure and draw cost against batch size and memory against steps as PNGs",
		Long: `plots measures, then draws into DIR:

  cost_vs_batch.png    forward solve + gradient time per path of the SDE-GAN generator
                       (64 steps) for reversible Heun + reversible adjoint and midpoint +
                       continuous adjoint, and a 1000-step Brownian forward+reverse sweep
                       per path for the Brownian Interval and raw normals, batch 16 to 16384
  memory_vs_steps.png  memory allocated by Solve+Backward, reversible adjoint and
                       backprop, 100 to 10,000 steps

and prints the numbers plotted. BENCHMARKS.md's plots are made by
gosde bench plots --out docs/bench`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("--out DIR is required")
			}
			if s.Repeats < 0 {
				return fmt.Errorf("--repeats must be positive, got %d", s.Repeats)
			}
			r, files, err := bench.Plots(s, out)
			if err != nil {
				return fmt.Errorf("bench plots: %w", err)
			}
			r.Machine = bench.ThisMachine()
			r.WriteText(cmd.OutOrStdout())
			fmt.Fprintf(cmd.OutOrStdout(), "\nwrote %s\n", strings.Join(files, ", "))
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "directory to write the PNG files into (created if missing)")
	addSettingsFlags(cmd, &s)
	return cmd
}
