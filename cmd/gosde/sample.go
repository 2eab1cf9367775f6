package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/training"
	"github.com/spf13/cobra"
)

func newSampleCommand() *cobra.Command {
	var (
		ckpt, out, device string
		n                 int
		seed              uint64
	)
	cmd := &cobra.Command{
		Use:   "sample --checkpoint RUN_DIR --n N --out samples.csv",
		Short: "Generate paths from a trained model, in the data's own units",
		Long: `sample draws N paths from a checkpoint's generator (its weight average once averaging
has begun) and writes them as CSV in long format, header path,t,<channel names>, in the
data's own units. Path p depends only on --seed and p, not on N.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if ckpt == "" || out == "" {
				return fmt.Errorf("--checkpoint and --out are required")
			}
			ck, err := openCheckpoint(ckpt, device)
			if err != nil {
				return err
			}
			defer closeEngine(ck.Engine, &err)
			if err := ck.CheckSampleMemory(n); err != nil {
				return err
			}
			p, err := ck.Sample(n, seed)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := dataset.WriteCSV(&buf, p); err != nil {
				return err
			}
			if err := checkpoint.WriteFileAtomic(out, buf.Bytes()); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %d paths × %d times × %d channels to %s\n", p.N, p.T(), p.C(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&ckpt, "checkpoint", "", "a run directory, or the checkpoint file in it (model.safetensors)")
	cmd.Flags().StringVar(&out, "out", "", "CSV file to write")
	cmd.Flags().IntVar(&n, "n", 1000, "number of paths")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "seed of the generator's noise")
	cmd.Flags().StringVar(&device, "device", "auto", "engine: auto, cpu or gpu (a latent SDE samples from its prior on the CPU)")
	return cmd
}

func newEvalCommand() *cobra.Command {
	var (
		ckpt, data, device string
		n                  int
		seed               uint64
	)
	cmd := &cobra.Command{
		Use:   "eval --checkpoint RUN_DIR [--data ou|air-quality|PATH]",
		Short: "Compare a trained model's paths with held-out real data; print the metrics as JSON",
		Long: `eval generates paths from a checkpoint and compares them with the held-out part of a
data set (by default the one the model was trained on): signature MMD² beside its
real-vs-real floor, Kolmogorov–Smirnov distances of the marginals at 11 times, the accuracy
of classifiers telling real from generated on signatures and on raw paths (0.5 is perfect),
the correlation of the last value with the first and the spread of one-step increments
beside the real data's, and train-on-synthetic / test-on-real prediction error beside
train-on-real; the generated values' scale beside the real data's; each headline metric's
spread over 8 draws; and warnings (also on stderr) where the numbers mean less than they
seem. With the run's own data, --n and --seed it prints the trained report that train
wrote to metrics.json. The definitions are in the README.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if ckpt == "" {
				return fmt.Errorf("--checkpoint is required")
			}
			ck, err := openCheckpoint(ckpt, device)
			if err != nil {
				return err
			}
			defer closeEngine(ck.Engine, &err)
			if data == "" {
				data = ck.Config.Data
			}
			// By default what train measured: the run's eval paths and seed.
			if !cmd.Flags().Changed("n") {
				n = ck.Config.EvalPaths
			}
			if !cmd.Flags().Changed("seed") {
				seed = ck.Config.Seed
			}
			rep, err := ck.Evaluate(data, n, seed)
			if err != nil {
				return err
			}
			for _, w := range rep.Warnings {
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %s\n", w)
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetIndent("", "  ")
			return enc.Encode(rep)
		},
	}
	cmd.Flags().StringVar(&ckpt, "checkpoint", "", "a run directory, or the checkpoint file in it (model.safetensors)")
	cmd.Flags().StringVar(&data, "data", "", "data to compare with (default: the training data)")
	cmd.Flags().IntVar(&n, "n", 0, "number of generated paths (default: the run's --eval-paths)")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "seed of the generated paths and of the metrics (default: the run's --seed)")
	cmd.Flags().StringVar(&device, "device", "auto", "engine of an SDE-GAN: auto, cpu or gpu (a latent SDE is evaluated on the CPU)")
	return cmd
}

// closeEngine closes eng, reporting its error in *err unless the command already
// failed: a failed release on a device is worth knowing, but not over the first error.
func closeEngine(eng host.Engine, err *error) {
	if cerr := eng.Close(); cerr != nil && *err == nil {
		*err = fmt.Errorf("closing the %s engine: %w", eng.Name(), cerr)
	}
}

// openCheckpoint loads a checkpoint (a file, or a run directory holding one) and
// opens the engine it computes on (--device), checking the device first so that a
// wrong one is reported before any file is read. The caller closes ck.Engine.
func openCheckpoint(path, device string) (*training.Checkpoint, error) {
	if err := host.Check(device); err != nil {
		return nil, err
	}
	// A run directory stands for its checkpoint.
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		file := filepath.Join(path, training.CheckpointFile)
		if _, err := os.Stat(file); err != nil {
			return nil, fmt.Errorf("--checkpoint %s is a directory without %s: give a run directory of gosde train or the checkpoint file itself", path, training.CheckpointFile)
		}
		path = file
	}
	ck, err := training.Load(path)
	if err != nil {
		return nil, err
	}
	if ck.Engine, err = host.Open(device); err != nil {
		return nil, err
	}
	return ck, nil
}
