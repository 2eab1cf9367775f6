package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/gosde/gosde/training"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newTrainCommand() *cobra.Command {
	cfg := training.DefaultConfig()
	var (
		out, resume, device string
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (default: an SDE-GAN on the OU data set, about two minutes on 2 cores)",
		Long: `train fits a model and leaves a run directory holding config.json, the checkpoint
model.safetensors (weights, optimiser state and averages, loadable from Python), metrics.json
(for the untrained and the trained model) and PNG plots: real against generated paths,
marginal histograms at 5 times, and training curves.

Ctrl-C writes a checkpoint of the last completed step and exits; --resume DIR continues
it, bit-identically to a run that was never interrupted.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkDevice(device); err != nil {
				return err
			}
			dir := out
			if resume != "" {
				dir = resume
				if cmd.Flags().Changed("out") && out != resume {
					return fmt.Errorf("--out and --resume name different directories; --resume continues the run in its own directory")
				}
			} else if dir == "" {
				dir = filepath.Join("runs", time.Now().Format("20060102-150405"))
			}
			cfg.GAN.Steps = cfg.Steps
			if err := cfg.Check(); err != nil && resume == "" {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			w := cmd.ErrOrStderr()
			fmt.Fprintf(w, "training %s on %s for %d steps (batch %d) into %s\n", cfg.Model, cfg.Data, cfg.Steps, cfg.GAN.Batch, dir)
			show := newProgress(w, cfg.Steps)
			res, err := training.Run(ctx, cfg, dir, resume != "", show.step)
			show.done()
			if errors.Is(err, training.ErrInterrupted) {
				fmt.Fprintf(w, "interrupted: checkpoint written to %s; continue with: gosde train --resume %s\n",
					filepath.Join(dir, training.CheckpointFile), dir)
				return err
			}
			if err != nil {
				return err
			}
			u, t := res.Untrained, res.Trained
			o := cmd.OutOrStdout()
			fmt.Fprintf(o, "trained %d steps in %.0f s\n", res.Steps, res.Seconds)
			fmt.Fprintf(o, "%-26s %12s %12s\n", "metric", "untrained", "trained")
			if u != nil {
				fmt.Fprintf(o, "%-26s %12.4g %12.4g   (real-vs-real floor %.4g)\n", "signature MMD²", u.MMD, t.MMD, t.MMDFloor)
				fmt.Fprintf(o, "%-26s %12.3f %12.3f\n", "largest marginal KS", u.KSMax, t.KSMax)
				fmt.Fprintf(o, "%-26s %12.3f %12.3f   (0.5 is perfect)\n", "classifier accuracy", u.ClassifierAccuracy, t.ClassifierAccuracy)
				fmt.Fprintf(o, "%-26s %12.4g %12.4g   (train on real: %.4g)\n", "prediction MSE (TSTR)", u.TSTRMSE, t.TSTRMSE, t.TRTRMSE)
			}
			fmt.Fprintf(o, "metrics: %s\nplots:   %s, %s, %s\ncheckpoint: %s\n",
				filepath.Join(dir, training.MetricsFile),
				filepath.Join(dir, training.PathsPlot), filepath.Join(dir, training.MarginalsPlot), filepath.Join(dir, training.CurvesPlot),
				filepath.Join(dir, training.CheckpointFile))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Model, "model", cfg.Model, "model to train: sde-gan")
	f.StringVar(&cfg.Data, "data", cfg.Data, "data: ou, air-quality, a CSV file, or a directory of the Beijing CSVs")
	f.IntVar(&cfg.Steps, "steps", cfg.Steps, "training steps")
	f.IntVar(&cfg.GAN.Batch, "batch", cfg.GAN.Batch, "paths per step (generated and real each)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the data, the initialisation and all noise")
	f.StringVar(&device, "device", "auto", "engine: auto, cpu or gpu")
	f.StringVar(&out, "out", "", "run directory (default runs/<date-time>)")
	f.StringVar(&resume, "resume", "", "continue the run in this directory (to --steps, if larger)")
	f.IntVar(&cfg.CheckpointEvery, "checkpoint-every", cfg.CheckpointEvery, "write the checkpoint every this many steps (0: at the end)")
	f.IntVar(&cfg.EvalPaths, "eval-paths", cfg.EvalPaths, "generated paths compared with the real test set")
	f.IntVar(&cfg.GAN.Hidden, "hidden", cfg.GAN.Hidden, "hidden state size of the generator SDE and the discriminator CDE")
	f.IntVar(&cfg.GAN.NoiseDim, "noise", cfg.GAN.NoiseDim, "Brownian channels of the generator")
	f.IntVar(&cfg.GAN.Width, "width", cfg.GAN.Width, "MLP width")
	f.IntVar(&cfg.GAN.Depth, "depth", cfg.GAN.Depth, "MLP hidden layers")
	f.Float64Var(&cfg.GAN.GenLR, "lr-gen", cfg.GAN.GenLR, "generator learning rate (Adadelta)")
	f.Float64Var(&cfg.GAN.DiscLR, "lr-disc", cfg.GAN.DiscLR, "discriminator learning rate (Adadelta)")
	f.Float64Var(&cfg.GAN.WeightDecay, "weight-decay", cfg.GAN.WeightDecay, "weight decay of both optimisers")
	f.IntVar(&cfg.GAN.SWAStart, "swa-start", cfg.GAN.SWAStart, "average the weights after this step (negative: half of --steps)")
	return cmd
}

// checkDevice accepts the engines this binary has.
func checkDevice(device string) error {
	switch device {
	case "auto", "cpu":
		return nil
	case "gpu":
		return errors.New("this gosde was built without GPU support: the CUDA engine is not part of this build; use --device cpu (or auto)")
	}
	return fmt.Errorf("unknown device %q: choose auto, cpu or gpu", device)
}

// progress shows a bar on a terminal and a plain line every few seconds otherwise.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int
	last  time.Time
	start time.Time
	first int // the step count when this process started (non-zero on resume)
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total, start: time.Now(), first: -1}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) step(pr training.Progress) {
	if p.first < 0 {
		p.first = pr.Step - 1
	}
	desc := fmt.Sprintf("W %.4f", pr.GenLoss)
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set(pr.Step)
		return
	}
	if time.Since(p.last) < 5*time.Second && pr.Step != pr.Total {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(pr.Step-p.first) / el
	eta := time.Duration(float64(pr.Total-pr.Step)/rate) * time.Second
	fmt.Fprintf(p.w, "step %d/%d  %s  D(fake) %.4f  D(real) %.4f  %.1f steps/s  ETA %s\n",
		pr.Step, pr.Total, desc, pr.FakeScore, pr.RealScore, rate, eta.Round(time.Second))
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
