package main

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/training"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

func newTrainCommand() *cobra.Command {
	cfg := training.DefaultConfig()
	var (
		out, resume  string
		batch, width int
		lr           float64
		logs         []string
		maxTime      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train a model (default: an SDE-GAN on the OU data set, about two minutes on 2 cores)",
		Long: `train fits a model and leaves a run directory holding config.json, the checkpoint
model.safetensors (weights, optimiser state and averages, loadable from Python), metrics.json
(for the untrained and the trained model) and PNG plots: real against generated paths,
marginal histograms at 5 times, and training curves.

Ctrl-C writes a checkpoint of the last completed step whose model samples finite values, and exits; --resume DIR continues
it, bit-identically to a run that was never interrupted. A process training into a
directory holds it: a second train into the same directory is refused, and so is --out
onto a directory that holds a run already, unless --overwrite asks to start it over.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if resume != "" {
				return resumeTraining(cmd, resume, out, cfg, maxTime)
			}
			dir := out
			if dir == "" {
				dir = filepath.Join("runs", time.Now().Format("20060102-150405"))
			}
			cfg.GAN.Steps = cfg.Steps
			cfg.MaxSeconds = maxTime.Seconds()
			if cmd.Flags().Changed("log") {
				ts, err := dataset.ParseLog(logs)
				if err != nil {
					return err
				}
				cfg.Transforms = ts
			}
			if cfg.GAN.DiscSteps < 1 {
				return fmt.Errorf("--disc-steps must be at least 1 (discriminator updates per generator update), got %d", cfg.GAN.DiscSteps)
			}
			// --batch and --width apply to whichever model is trained; each model keeps
			// its own default.
			if cmd.Flags().Changed("batch") {
				cfg.GAN.Batch, cfg.Latent.Batch = batch, batch
			}
			if cmd.Flags().Changed("width") {
				cfg.GAN.Width, cfg.Latent.Width = width, width
			}
			if err := applyModelDefaults(cmd, &cfg, lr); err != nil {
				return err
			}
			// Check refuses a device this binary cannot have (host.Check: unknown, or gpu
			// without GPU support) before anything is written; Run opens the engine.
			if err := cfg.Check(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "training %s on %s for %d steps into %s\n", cfg.Model, cfg.Data, cfg.Steps, dir)
			return trainAndReport(cmd, cfg, dir, false, cfg.Model, cfg.Steps, maxTime)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Model, "model", cfg.Model, "model to train: sde-gan, sde-sigker (the SDE-GAN's generator trained by a signature-kernel score, no discriminator) or latent-sde")
	f.StringVar(&cfg.Data, "data", cfg.Data, "data: ou, air-quality, a CSV file, or a directory of the Beijing CSVs")
	f.StringVar(&cfg.CSV.Sep, "csv-sep", "", "CSV: field separator: ',' (default), ';', tab or '|'")
	f.StringVar(&cfg.CSV.Format, "csv-format", "", "CSV: layout: long (a row per series and time), wide (a column per series) or auto (long when there is an id column or --window, else wide)")
	f.StringVar(&cfg.CSV.ID, "id-col", "", "CSV: the series-id column (default: one named id, series or path)")
	f.StringVar(&cfg.CSV.Time, "time-col", "", "CSV: the time column (default: one named t, time, date or datetime)")
	f.StringSliceVar(&cfg.CSV.Columns, "columns", nil, "CSV: the value columns to read, in order, e.g. a,b,c (default: all but the id and time)")
	f.StringVar(&cfg.CSV.TimeFormat, "time-format", "", "CSV: how times are written: auto (numbers or ISO dates), number, date, datetime, rfc3339 or a pattern like %d/%m/%Y; dates become days since the earliest")
	f.BoolVar(&cfg.CSV.NoHeader, "no-header", false, "CSV: the file has no header row; name columns by position, 1, 2, … (--time-col 1)")
	f.IntVar(&cfg.CSV.Window, "window", 0, "CSV: cut each series into windows of this many points, times relative to each window's start; the test set is the last fifth of each series' windows")
	f.IntVar(&cfg.CSV.Stride, "stride", 0, "CSV: points from one window's start to the next (default --window: no overlap)")
	f.StringSliceVar(&logs, "log", nil, "channels the model sees on a log scale (positive or heavy-tailed data; samples come back in the data's units, never below −OFFSET): NAME for log(x), NAME=OFFSET for log(x + OFFSET) where a channel has zeros; comma-separated")
	f.IntVar(&cfg.Steps, "steps", cfg.Steps, "training steps (sde-sigker: 3000 unless given)")
	f.IntVar(&batch, "batch", 0, "paths per step (default 256; sde-sigker: 64 generated and 64 real)")
	f.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "seed of the data, the initialisation and all noise")
	f.StringVar(&cfg.Device, "device", cfg.Device, "engine: auto (the GPU when this build has one that starts, else the CPU), cpu or gpu; the GPU solves the latent SDE with reversible Heun only")
	f.StringVar(&out, "out", "", "run directory (default runs/<date-time>)")
	f.StringVar(&resume, "resume", "", "continue the run in this directory (to --steps, if larger)")
	f.BoolVar(&cfg.Overwrite, "overwrite", false, "start over the run that --out holds (refused otherwise): its files are replaced once the new run has evaluated its untrained model")
	f.IntVar(&cfg.CheckpointEvery, "checkpoint-every", cfg.CheckpointEvery, "write the checkpoint every this many steps (0: at the end)")
	f.IntVar(&cfg.EvalPaths, "eval-paths", cfg.EvalPaths, "generated paths compared with the real test set")
	f.IntVar(&cfg.GAN.Hidden, "hidden", cfg.GAN.Hidden, "SDE-GAN: hidden state size of the generator SDE and the discriminator CDE")
	f.IntVar(&cfg.GAN.NoiseDim, "noise", cfg.GAN.NoiseDim, "SDE-GAN: Brownian channels of the generator")
	f.IntVar(&width, "width", 0, "MLP width (default 16 for the SDE-GAN and sde-sigker, 32 for the latent SDE)")
	f.IntVar(&cfg.GAN.Depth, "depth", cfg.GAN.Depth, "SDE-GAN: MLP hidden layers")
	f.Float64Var(&cfg.GAN.GenLR, "lr-gen", cfg.GAN.GenLR, "SDE-GAN: generator learning rate (Adadelta)")
	f.Float64Var(&cfg.GAN.DiscLR, "lr-disc", cfg.GAN.DiscLR, "SDE-GAN: discriminator learning rate (Adadelta)")
	f.Float64Var(&cfg.GAN.WeightDecay, "weight-decay", cfg.GAN.WeightDecay, "SDE-GAN: weight decay of both optimisers")
	f.IntVar(&cfg.GAN.DiscSteps, "disc-steps", cfg.GAN.DiscSteps, "SDE-GAN: discriminator updates per generator update (WGAN's n_critic; 1 as the torchsde example)")
	f.IntVar(&cfg.GAN.SWAStart, "swa-start", cfg.GAN.SWAStart, "SDE-GAN and sde-sigker: average the weights after this step (negative: from half of --steps, or of --max-time if that ends the run first)")
	f.DurationVar(&maxTime, "max-time", 0, "stop training after this much time (e.g. 5m), for comparisons at equal wall-clock time")
	f.StringVar(&cfg.Method, "method", cfg.Method, "latent SDE solver: reversible-heun, midpoint, heun or euler")
	f.StringVar(&cfg.Adjoint, "adjoint", cfg.Adjoint, "latent SDE gradients: reversible (reversible-heun only), continuous (midpoint only) or backprop")
	f.Float64Var(&cfg.Latent.Dt, "dt", cfg.Latent.Dt, "latent SDE: the solver's largest step in the model's time unit, where a step of the data's grid is 1 (on a series of more than 24 times, 23/(times−1)); 0: the grid's smallest spacing")
	f.Float64Var(&cfg.ReconstructionWarn, "reconstruction-warn", cfg.ReconstructionWarn,
		"warn (once) when the reversible adjoint's reconstruction error exceeds this, in normalised units (0: never)")
	f.Float64Var(&lr, "lr", 0, fmt.Sprintf("Adam's learning rate: latent SDE (default %g) and sde-sigker (default %g); the SDE-GAN takes --lr-gen and --lr-disc", cfg.Latent.LR, cfg.GAN.SigKer.LR))
	f.StringVar(&cfg.GAN.SigKer.Static, "static", cfg.GAN.SigKer.Static, "sde-sigker: the signature kernel's static kernel, rbf or linear")
	f.Float64Var(&cfg.GAN.SigKer.Sigma2Scale, "sigma2-scale", cfg.GAN.SigKer.Sigma2Scale, "sde-sigker: the RBF kernel's σ² as a multiple of the median squared distance between real points")
	f.IntVar(&cfg.GAN.SigKer.Refine, "refine", cfg.GAN.SigKer.Refine, "sde-sigker: dyadic refinement of the signature kernel's PDE grid (0 = the data's times)")
	f.IntVar(&cfg.GAN.SigKer.Times, "score-times", cfg.GAN.SigKer.Times, "sde-sigker: times scored per step, both ends and the rest drawn at random (0: all)")
	f.BoolVar(&cfg.GAN.SigKer.LeadLag, "lead-lag", cfg.GAN.SigKer.LeadLag, "sde-sigker: enter each channel as a lead and a lag coordinate, so that the kernel sees the paths' roughness (--lead-lag=false: once)")
	f.Float64Var(&cfg.GAN.SigKer.TimeScale, "time-scale", cfg.GAN.SigKer.TimeScale, "sde-sigker: length of the time channel the kernel sees")
	f.StringVar(&cfg.GAN.SigKer.Schedule, "schedule", cfg.GAN.SigKer.Schedule, "sde-sigker: learning-rate schedule, cosine (to zero over --steps) or constant")
	f.IntVar(&cfg.Latent.LatentSize, "latent-size", cfg.Latent.LatentSize, "latent SDE: size of the latent state")
	f.IntVar(&cfg.Latent.ContextSize, "context-size", cfg.Latent.ContextSize, "latent SDE: size of the encoder's context")
	return cmd
}

// resumeTraining continues the run in dir with its own settings; only --steps (a
// larger total), --max-time and --device may be given beside --resume, and any other
// flag is refused by name rather than ignored.
func resumeTraining(cmd *cobra.Command, dir, out string, cfg training.Config, maxTime time.Duration) error {
	if cmd.Flags().Changed("out") && out != dir {
		return fmt.Errorf("--out and --resume name different directories; --resume continues the run in its own directory")
	}
	if cmd.Flags().Changed("overwrite") { // before the general refusal: it says which to give
		return fmt.Errorf("--overwrite starts the run in %s over and --resume continues it: give one of them", dir)
	}
	var refused []string
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if !resumeMayChange[f.Name] {
			refused = append(refused, "--"+f.Name)
		}
	})
	if len(refused) > 0 {
		return fmt.Errorf("%s cannot change when resuming: a resumed run is the run in %s (its config.json), and may be given only a larger --steps, --max-time or --device; start a new run with --out to train otherwise",
			strings.Join(refused, ", "), dir)
	}
	give := training.Config{MaxSeconds: maxTime.Seconds()}
	if cmd.Flags().Changed("steps") {
		give.Steps = cfg.Steps
	}
	if cmd.Flags().Changed("device") {
		give.Device = cfg.Device
	}
	// The banner reads config.json alone: Run checks the run whole (the checkpoint, the
	// data's hash) once it holds the directory.
	run, err := training.ReadConfig(dir)
	if err != nil {
		return fmt.Errorf("resuming %s: %w", dir, err)
	}
	steps := max(run.Steps, give.Steps)
	fmt.Fprintf(cmd.ErrOrStderr(), "resuming %s on %s in %s, to %d steps (seed %d, batch %d; the run's settings from %s)\n",
		run.Model, run.Data, dir, steps, run.Seed, batchOf(run), training.ConfigFile)
	if maxTime == 0 {
		maxTime = time.Duration(run.MaxSeconds * float64(time.Second))
	}
	return trainAndReport(cmd, give, dir, true, run.Model, steps, maxTime)
}

// resumeMayChange are the flags a resume accepts (see training.Resumed).
var resumeMayChange = map[string]bool{"resume": true, "out": true, "steps": true, "max-time": true, "device": true}

func batchOf(c training.Config) int {
	if c.Model == "latent-sde" {
		return c.Latent.Batch
	}
	return c.GAN.Batch
}

// trainAndReport runs the training (a new run of cfg, or the resumed run in dir) of
// model to total steps, with progress on stderr, and prints the summary.
func trainAndReport(cmd *cobra.Command, cfg training.Config, dir string, resume bool, model string, total int, maxTime time.Duration) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	w := cmd.ErrOrStderr()
	show := newProgress(w, total, maxTime)
	res, err := runTraining(ctx, cfg, dir, resume, show.step)
	show.done()
	if errors.Is(err, training.ErrInterrupted) {
		fmt.Fprintf(w, "interrupted: checkpoint in %s; continue with: gosde train --resume %s\n",
			filepath.Join(dir, training.CheckpointFile), dir)
		return err
	}
	if err != nil {
		return err
	}
	o := cmd.OutOrStdout()
	printSummary(o, model, res)
	fmt.Fprintf(o, "metrics: %s\nplots:   %s, %s, %s\ncheckpoint: %s\n",
		filepath.Join(dir, training.MetricsFile),
		filepath.Join(dir, training.PathsPlot), filepath.Join(dir, training.MarginalsPlot), filepath.Join(dir, training.CurvesPlot),
		filepath.Join(dir, training.CheckpointFile))
	return nil
}

// runTraining is training.Run; tests replace it to exercise the command's flag
// handling without training.
var runTraining = training.Run

// applyModelDefaults gives the model its own defaults where a flag was not given, and
// routes --lr to the model that has one; flags that the model does not use are
// refused by name rather than ignored.
func applyModelDefaults(cmd *cobra.Command, cfg *training.Config, lr float64) error {
	changed := cmd.Flags().Changed
	if cfg.Model == "sde-gan" || cfg.Model == "sde-sigker" {
		for _, name := range []string{"method", "adjoint", "dt"} {
			if changed(name) {
				return fmt.Errorf("--%s is the latent SDE's: the SDE-GAN (and sde-sigker, its generator) always solves with reversible Heun and its algebraic adjoint, one step per unit of the model's time", name)
			}
		}
	}
	switch cfg.Model {
	case "sde-sigker":
		// Its own batch and length: fewer, dearer steps than the SDE-GAN's.
		d := gan.DefaultSigKer()
		if !changed("batch") {
			cfg.GAN.Batch = d.Batch
		}
		if !changed("steps") {
			cfg.Steps, cfg.GAN.Steps = d.Steps, d.Steps
		}
		if changed("lr") {
			cfg.GAN.SigKer.LR = lr
		}
		for _, name := range []string{"lr-gen", "lr-disc", "weight-decay", "disc-steps"} {
			if changed(name) {
				return fmt.Errorf("--%s is the SDE-GAN's; sde-sigker has no discriminator and trains its generator with Adam at --lr", name)
			}
		}
	case "latent-sde":
		if changed("lr") {
			cfg.Latent.LR = lr
		}
	default:
		if changed("lr") {
			return fmt.Errorf("--lr is not the SDE-GAN's: give --lr-gen and --lr-disc (Adadelta)")
		}
	}
	return nil
}

// progress shows a bar on a terminal and a plain line every few seconds otherwise.
type progress struct {
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int
	last  time.Time
	start time.Time
	first int // the step count when this process started (non-zero on resume)
	limit time.Duration
}

func newProgress(w io.Writer, total int, limit time.Duration) *progress {
	p := &progress{w: w, total: total, start: time.Now(), first: -1, limit: limit}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
			progressbar.OptionShowIts(), progressbar.OptionSetItsString("steps"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

func (p *progress) step(pr training.Progress) {
	if p.first < 0 {
		// Rates count from the end of the first step, which also paid for start-up.
		p.first, p.start, p.last = pr.Step, time.Now(), time.Now()
		if pr.Engine != "" {
			fmt.Fprintf(p.w, "engine: %s\n", pr.Engine)
		}
	}
	if pr.Warning != "" {
		// On its own line, whether or not a bar is drawn.
		fmt.Fprintf(p.w, "\n%s\n", pr.Warning)
	}
	desc := pr.Detail
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set(pr.Step)
		return
	}
	if (time.Since(p.last) < 5*time.Second || pr.Step == p.first) && pr.Step != pr.Total {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start).Seconds()
	rate := float64(pr.Step-p.first) / math.Max(el, 1e-9)
	eta := time.Duration(float64(pr.Total-pr.Step)/rate) * time.Second
	if p.limit > 0 {
		eta = min(eta, p.limit-time.Since(p.start))
	}
	fmt.Fprintf(p.w, "step %d/%d  %s  %.1f steps/s  ETA %s\n", pr.Step, pr.Total, desc, rate, eta.Round(time.Second))
}

func (p *progress) done() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
