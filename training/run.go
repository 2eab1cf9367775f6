// Package training runs a model's training end to end: it loads the data, trains with
// periodic atomic checkpoints, evaluates the untrained and the trained model, and
// leaves a run directory holding config.json, model.safetensors, metrics.json and PNG
// plots. It also loads checkpoints back for sampling and evaluation.
package training

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gosde/gosde/checkpoint"
	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/latent"
	"github.com/gosde/gosde/metrics"
	"github.com/gosde/gosde/plots"
)

// Files of a run directory.
const (
	ConfigFile     = "config.json"
	CheckpointFile = "model.safetensors"
	MetricsFile    = "metrics.json"
	PathsPlot      = "paths.png"
	MarginalsPlot  = "marginals.png"
	CurvesPlot     = "training.png"
	// TimingsFile holds the wall-clock seconds of each step, beside the checkpoint
	// rather than in it, so that the same run gives the same checkpoint byte for byte.
	TimingsFile = "timings.json"
)

// Config is everything that defines a training run; it is saved as config.json and in
// the checkpoint, so that a run can be resumed and its model rebuilt.
type Config struct {
	Model string `json:"model"`
	// Data is ou, air-quality or the path of the data (made absolute by Run, so that
	// resume and eval do not depend on the working directory).
	Data string `json:"data"`
	// DataSHA256 is the SHA-256 of the data file (a CSV) when the run started, set by
	// Run; a resume refuses a file that has changed since.
	DataSHA256 string `json:"data_sha256,omitempty"`
	// Transforms change channels of the data before the normalisation (log of a
	// positive channel); samples, plots and eval come back in the data's own units.
	Transforms dataset.Transforms `json:"transforms,omitempty"`
	// Steps is the total number of training steps (a resumed run continues to it).
	Steps int    `json:"steps"`
	Seed  uint64 `json:"seed"`
	// CheckpointEvery writes the checkpoint every this many steps (0: only at the end
	// and on interruption).
	CheckpointEvery int `json:"checkpoint_every"`
	// EvalPaths is the number of generated paths the metrics compare with the real
	// test set.
	EvalPaths int `json:"eval_paths"`
	// MaxSeconds stops training after this much wall-clock time (0: no limit), for
	// comparisons at equal time.
	MaxSeconds float64       `json:"max_seconds"`
	GAN        gan.Config    `json:"gan"`
	Latent     latent.Config `json:"latent"`
	// Method and Adjoint select the latent SDE's solver by name (reversible-heun,
	// midpoint, heun, euler; reversible, continuous, backprop). The SDE-GAN always uses
	// reversible Heun and its algebraic adjoint.
	Method  string `json:"method"`
	Adjoint string `json:"adjoint"`
	// ReconstructionWarn is the reversible adjoint's reconstruction error (normalised
	// units) above which Run warns, once per run, that the gradients are becoming
	// inexact (0: never warn).
	ReconstructionWarn float64 `json:"reconstruction_warn"`
	// Device selects the engine that computes the solves: "auto" (the GPU engine when
	// this binary has one and it starts, else the CPU), "cpu" or "gpu". The GPU engine
	// solves the latent SDE with reversible Heun and its adjoint only: other schemes
	// run on the CPU under "auto" and are refused under "gpu".
	// Empty means auto, except when resuming, where it keeps the run's own choice.
	Device string `json:"device"`
	// CSV says how to read a CSV file given as Data.
	CSV CSVConfig `json:"csv,omitzero"`
	// Engine is the Name of the engine that computed the run (most recently, for a
	// resumed run), set by Run for the record; it selects nothing.
	Engine string `json:"engine,omitempty"`
	// Overwrite lets a new run start over the run that its directory holds (Run
	// refuses the directory otherwise). It describes an invocation, not the run, and
	// is not saved.
	Overwrite bool `json:"-"`
}

// DefaultConfig is the built-in default: an SDE-GAN on the OU data set with the
// reference model sizes and learning rates of docs/DESIGN.md ("The SDE-GAN"), sized to
// train in about two minutes on two CPU cores (batch 256 instead of 1024, 2,000 steps
// instead of 10,000).
func DefaultConfig() Config {
	g := gan.DefaultConfig()
	g.Batch = 256
	g.Steps = 2000
	g.SWAStart = -1
	g.SigKer = gan.DefaultSigKerConfig()
	return Config{Model: "sde-gan", Data: "ou", Steps: g.Steps, Seed: 1, CheckpointEvery: 250, EvalPaths: 1000,
		GAN: g, Latent: latent.DefaultConfig(), Method: "reversible-heun", Adjoint: "reversible",
		ReconstructionWarn: 1e-2, Device: "auto"}
}

// Check reports the first invalid setting.
func (c Config) Check() error {
	if c.Model == "latent-sde" {
		if _, _, err := parseSolver(c.Method, c.Adjoint); err != nil {
			return err
		}
	}
	if err := checkDevice(c.Model, c.Device, c.Method, c.Adjoint); err != nil {
		return err
	}
	if err := c.Transforms.Check(nil); err != nil {
		return err
	}
	switch {
	case !slices.Contains(Models, c.Model):
		return fmt.Errorf("unknown model %q: the models are %v", c.Model, Models)
	case c.Model == "latent-sde" && c.Latent.Batch < 1:
		return fmt.Errorf("batch must be at least 1, got %d", c.Latent.Batch)
	case c.MaxSeconds < 0:
		return fmt.Errorf("time limit must not be negative, got %v s", c.MaxSeconds)
	case c.Steps < 1:
		return fmt.Errorf("steps must be at least 1, got %d", c.Steps)
	case c.GAN.Batch < 1:
		return fmt.Errorf("batch must be at least 1, got %d", c.GAN.Batch)
	case c.CheckpointEvery < 0:
		return fmt.Errorf("checkpoint interval must not be negative, got %d", c.CheckpointEvery)
	case !(c.ReconstructionWarn >= 0) || math.IsInf(c.ReconstructionWarn, 0):
		return fmt.Errorf("reconstruction warning threshold must be a finite number ≥ 0 (0 disables it), got %v", c.ReconstructionWarn)
	case c.EvalPaths < metrics.MinPaths:
		return fmt.Errorf("eval paths must be at least %d, got %d", metrics.MinPaths, c.EvalPaths)
	}
	if _, err := c.CSV.Options(); err != nil {
		return err
	}
	if !c.CSV.IsZero() && (c.Data == "ou" || c.Data == "air-quality") {
		return fmt.Errorf("the CSV options (--csv-sep, --window, …) apply to a CSV file given with --data, not to %s", c.Data)
	}
	return nil
}

// Progress is reported after every training step.
type Progress struct {
	Stats
	Total int
	// Engine is the Name of the engine computing the run.
	Engine string
	// Warning, when not empty, is a warning raised by this step (see
	// Config.ReconstructionWarn) or, on the first step, by the choice of engine (auto
	// fell back to the CPU); each kind is raised at most once per run.
	Warning string
}

// Result is what a finished run reports.
type Result struct {
	Dir       string
	Steps     int
	Seconds   float64
	Engine    string // the Name of the engine that computed the run
	Untrained *metrics.Report
	Trained   metrics.Report
	// TestLoss is the model's own loss on the test set after training: the Wasserstein
	// estimate (SDE-GAN), the signature-kernel MMD² (sde-sigker) or the negative ELBO
	// (latent SDE). It is no quality measure across runs: the SDE-GAN's has the scale of
	// its own discriminator, which nothing fixes (TestLossMeaning).
	TestLoss float64
	// Warnings are the warnings raised during training, also reported in Progress.
	Warnings []string
}

// ErrInterrupted is returned by Run when its context is cancelled; the checkpoint of
// the last completed step has been written.
var ErrInterrupted = errors.New("training interrupted; the checkpoint holds the last completed step: continue with --resume")

// Resumed is the configuration with which Run continues the run saved in dir: the
// run's own, except for what a resume may change, taken from cfg where set — Steps (a
// larger total continues further; 0 keeps the run's; fewer is refused), MaxSeconds
// (0 keeps the run's) and Device (empty keeps the run's: which hardware computes is
// not part of the model). Everything else is the run's, and its data file must be the
// one it started with.
//
// The run's configuration is config.json's, which must agree with the one its
// checkpoint was trained under: a directory whose files disagree (another seed,
// another learning rate) is refused, naming the settings that differ.
func Resumed(dir string, cfg Config) (Config, error) {
	c, _, err := resumed(dir, cfg)
	return c, err
}

// errNoRun is the resume of a directory that holds no run.
func errNoRun(dir string) error {
	return fmt.Errorf("resuming %s: it holds no run (no %s): no checkpoint yet, so nothing to resume; start it over with gosde train --out %s", dir, ConfigFile, dir)
}

// resumed is Resumed, with the checkpoint that the run continues.
func resumed(dir string, cfg Config) (Config, *Checkpoint, error) {
	saved, err := ReadConfig(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, errNoRun(dir)
	}
	if err != nil {
		return Config{}, nil, fmt.Errorf("resuming %s: %w", dir, err)
	}
	ck, err := Load(filepath.Join(dir, CheckpointFile))
	if errors.Is(err, fs.ErrNotExist) {
		return Config{}, nil, fmt.Errorf("resuming %s: it holds no checkpoint yet: the run stopped before writing its first; start it over with --out %s --overwrite", dir, dir)
	}
	if err != nil {
		return Config{}, nil, fmt.Errorf("resuming %s: %w", dir, err)
	}
	if diff := configDiff(saved, ck.Config); len(diff) > 0 {
		return Config{}, nil, fmt.Errorf("resuming %s: %s disagrees with the configuration its checkpoint %s was trained under: %s; restore %s, or start the run over with --out %s --overwrite",
			dir, ConfigFile, CheckpointFile, strings.Join(diff, ", "), ConfigFile, dir)
	}
	if cfg.Steps > 0 {
		if cfg.Steps < saved.Steps {
			return Config{}, nil, fmt.Errorf("resuming %s: --steps %d is fewer than the run's %d; a resumed run goes on to its own count or a larger one", dir, cfg.Steps, saved.Steps)
		}
		saved.Steps = cfg.Steps
	}
	if cfg.MaxSeconds > 0 {
		saved.MaxSeconds = cfg.MaxSeconds
	}
	if cfg.Device != "" {
		saved.Device = cfg.Device
	}
	if saved.DataSHA256 != "" {
		sum, err := fileSHA256(saved.Data)
		if err != nil {
			return Config{}, nil, fmt.Errorf("resuming %s: the run's data: %w", dir, err)
		}
		if sum != saved.DataSHA256 {
			return Config{}, nil, fmt.Errorf("resuming %s: %s has changed since the run started (its SHA-256 differs); a resumed run trains on the data it began with: restore the file, or start a new run", dir, saved.Data)
		}
	}
	return saved, ck, nil
}

// resumeMayDiffer are the settings (flattened JSON keys, see configDiff) in which a
// run's config.json may differ from its checkpoint's: what a resume may change (the
// step count, which the models' blocks repeat, the time limit, the device) and the
// engine that computed last.
var resumeMayDiffer = map[string]bool{"steps": true, "gan.Steps": true, "latent.Steps": true,
	"max_seconds": true, "device": true, "engine": true}

// configDiff lists the settings in which a run's config.json (file) differs from the
// configuration its checkpoint was trained under (ck), as "name (config.json X,
// checkpoint Y)", in name order.
func configDiff(file, ck Config) []string {
	a, b := flatConfig(file), flatConfig(ck)
	if ck.GAN.SWAStart < 0 {
		// The start of a time-limited run's average is recorded in config.json the
		// moment it is decided, which may be after the checkpoint was written.
		delete(a, "gan.SWAStart")
		delete(b, "gan.SWAStart")
	}
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var diff []string
	for _, k := range keys {
		if resumeMayDiffer[k] || a[k] == b[k] {
			continue
		}
		diff = append(diff, fmt.Sprintf("%s (%s %s, checkpoint %s)", k, ConfigFile, orNone(a[k]), orNone(b[k])))
	}
	return diff
}

func orNone(s string) string {
	if s == "" {
		return "unset"
	}
	return s
}

// flatConfig is c as written to JSON, flattened to dotted keys ("gan.GenLR") with
// their values' JSON text.
func flatConfig(c Config) map[string]string {
	out := map[string]string{}
	b, err := json.Marshal(c)
	if err != nil {
		return out
	}
	var tree map[string]json.RawMessage
	if json.Unmarshal(b, &tree) != nil {
		return out
	}
	var walk func(prefix string, m map[string]json.RawMessage)
	walk = func(prefix string, m map[string]json.RawMessage) {
		for k, v := range m {
			var sub map[string]json.RawMessage
			if json.Unmarshal(v, &sub) == nil {
				walk(prefix+k+".", sub)
				continue
			}
			out[prefix+k] = string(v)
		}
	}
	walk("", tree)
	return out
}

// pinData makes a data file's path absolute and records its SHA-256, so that the run
// can be resumed and evaluated from any directory, and an edited file is noticed.
func pinData(cfg Config) (Config, error) {
	if cfg.Data == "ou" || cfg.Data == "air-quality" || cfg.Data == "" {
		return cfg, nil
	}
	abs, err := filepath.Abs(cfg.Data)
	if err != nil {
		return cfg, err
	}
	cfg.Data = abs
	if st, err := os.Stat(abs); err == nil && st.Mode().IsRegular() {
		if cfg.DataSHA256, err = fileSHA256(abs); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Run trains the model of cfg into dir (created if needed), calling report after every
// step. When resume is true it continues the run saved in dir instead of starting a
// new one: the run is the saved one, and cfg supplies only what a resume may change
// (see Resumed). Cancelling ctx stops it after the current step with a checkpoint
// written.
//
// The process holds dir while it trains (LockFile): a second Run into it, new or
// resumed, is refused with a message naming the holder. A new run refuses a directory
// that holds a run already (config.json or a checkpoint) unless cfg.Overwrite is set;
// the old run's files are then replaced once the new run has evaluated its untrained
// model and writes its first checkpoint. A checkpoint is written over only by a state
// whose parameters are finite and whose model samples finite paths (see keep).
func Run(ctx context.Context, cfg Config, dir string, resume bool, report func(Progress)) (_ *Result, err error) {
	start := time.Now()
	r := &run{dir: dir, resume: resume, held: -1}
	defer func() {
		if cerr := r.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.open(cfg); err != nil {
		return nil, err
	}
	if err := r.openEngine(); err != nil {
		return nil, err
	}
	if err := r.buildModel(); err != nil {
		return nil, err
	}
	if !resume {
		// Taken only now, so that a run refused for its data or its settings creates
		// nothing (a resumed run took its directory before reading the run from it).
		if err := r.holdNew(); err != nil {
			return nil, err
		}
	}
	// The directory is held from here on (holdToResume, holdNew removed its stale
	// temporary files); a write cut short leaves one, removed however the run ends.
	defer removeStaleTemps(dir)
	if err := r.begin(ctx); err != nil {
		return nil, err
	}
	trainStart := time.Now()
	if err := r.train(ctx, trainStart, report); err != nil {
		return nil, err
	}
	return r.finish(ctx, start, trainStart)
}

// run is a training run under way: what Run's steps share.
type run struct {
	dir    string
	resume bool
	cfg    Config
	data   *Data
	lock   *dirLock
	eng    host.Engine
	model  model
	// resumeFrom is the checkpoint a resumed run continues.
	resumeFrom *Checkpoint
	hist       history
	res        *Result
	// pending is a warning for the next progress report.
	pending string
	// held is the step whose weights the checkpoint on disk holds (0: the untrained
	// model), -1 before the first is written.
	held int
	// warnedUnusable is set once a periodic checkpoint was skipped (see keep).
	warnedUnusable bool
	warnedRecon    bool
}

// open settles the run's configuration and loads its data. A resumed run holds its
// directory before it reads the run from it: a live process's files are not to be
// read half-way, nor its temporary files removed.
func (r *run) open(cfg Config) error {
	if r.resume {
		if err := r.holdToResume(cfg); err != nil {
			return err
		}
		return r.loadData()
	}
	var err error
	if r.cfg, err = pinData(cfg); err != nil {
		return err
	}
	// Checked again under the lock; here only to refuse before loading the data, saying
	// so when the run there is live.
	if err := refuseExistingRun(r.dir, r.cfg.Overwrite); err != nil {
		l, lerr := lockDir(r.dir)
		if errors.Is(lerr, errDirBusy) {
			return lerr
		}
		l.release()
		return err
	}
	return r.loadData()
}

// holdToResume takes the directory of the run to resume, clears what killed writes
// left there, and reads the run: its configuration (with what cfg may change, see
// Resumed) and its checkpoint.
func (r *run) holdToResume(cfg Config) (err error) {
	if cfg.Overwrite {
		return fmt.Errorf("resuming %s: --overwrite starts a run over and --resume continues it: give one of them", r.dir)
	}
	// Looked for first, so that a directory without a run is not given a lock file.
	if _, err := os.Stat(filepath.Join(r.dir, ConfigFile)); errors.Is(err, fs.ErrNotExist) {
		return errNoRun(r.dir)
	} else if err != nil {
		return fmt.Errorf("resuming %s: %w", r.dir, err)
	}
	if r.lock, err = lockDir(r.dir); err != nil {
		return err
	}
	removeStaleTemps(r.dir)
	r.warnNext(r.lock.warning)
	r.cfg, r.resumeFrom, err = resumed(r.dir, cfg)
	return err
}

// holdNew creates and takes a new run's directory, which must not hold a run unless
// the run is to start it over, and clears what killed writes left there.
func (r *run) holdNew() (err error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return err
	}
	if r.lock, err = lockDir(r.dir); err != nil {
		return err
	}
	if err := refuseExistingRun(r.dir, r.cfg.Overwrite); err != nil {
		return err
	}
	removeStaleTemps(r.dir)
	r.warnNext(r.lock.warning)
	return nil
}

// loadData checks the configuration, loads the data and checks that the run fits in
// memory.
func (r *run) loadData() (err error) {
	if err := r.cfg.Check(); err != nil {
		return err
	}
	if r.data, err = LoadData(r.cfg); err != nil {
		return err
	}
	if err := checkMemory(r.cfg, r.data); err != nil {
		return err
	}
	if r.cfg.Model == "latent-sde" {
		m, a, _ := parseSolver(r.cfg.Method, r.cfg.Adjoint)
		r.cfg.Latent.Method, r.cfg.Latent.Adjoint = m, a
	}
	return nil
}

// existingRun names the files that make dir a run already.
func existingRun(dir string) []string {
	var found []string
	for _, name := range []string{ConfigFile, CheckpointFile} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			found = append(found, name)
		}
	}
	return found
}

// refuseExistingRun refuses to start a new run in a directory that holds one, unless
// the caller asked to start it over.
func refuseExistingRun(dir string, overwrite bool) error {
	if files := existingRun(dir); len(files) > 0 && !overwrite {
		return fmt.Errorf("%s holds a run already (%s): continue it with --resume %s, start it over with --overwrite, or give another --out",
			dir, strings.Join(files, ", "), dir)
	}
	return nil
}

// openEngine opens the engine that computes the run and records its name.
func (r *run) openEngine() error {
	eng, err := host.Open(r.cfg.Device)
	if err != nil {
		return err
	}
	if _, cpu := eng.(*host.CPU); !cpu && r.cfg.Model == "latent-sde" && !latentOnGPU(r.cfg.Method, r.cfg.Adjoint) {
		// --device auto found a GPU, but this scheme runs on the CPU (Check refused an
		// explicit gpu): record and use the engine that computes.
		if err := eng.Close(); err != nil {
			return err
		}
		eng = host.NewCPU()
	}
	r.eng = eng
	r.cfg.Engine = eng.Name()
	if c, ok := eng.(*host.CPU); ok && c.Fallback() != nil {
		r.warnNext(fmt.Sprintf("warning: --device auto is training on the CPU: %v", c.Fallback()))
	}
	if len(r.data.Notes) > 0 && !r.resume {
		// What was decided on reading the data, shown once, before the first step.
		r.warnNext(strings.Join(r.data.Notes, "\n"))
	}
	return nil
}

// warnNext adds w (if any) to the warning of the next progress report.
func (r *run) warnNext(w string) {
	if w != "" {
		r.pending = strings.TrimPrefix(r.pending+"\n"+w, "\n")
	}
}

// buildModel builds the run's model on its engine.
func (r *run) buildModel() (err error) {
	r.model, err = newModel(&r.cfg, r.data.Train.C(), r.data.Train.Times, r.eng)
	return err
}

// close releases the model, then the engine, then the directory.
func (r *run) close() error {
	var errs []error
	if r.model != nil {
		if err := r.model.Close(); err != nil {
			errs = append(errs, fmt.Errorf("releasing the model's solvers: %w", err))
		}
	}
	if r.eng != nil {
		if err := r.eng.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing the %s engine: %w", r.eng.Name(), err))
		}
	}
	if err := r.lock.release(); err != nil {
		errs = append(errs, fmt.Errorf("releasing the run directory %s: %w", r.dir, err))
	}
	return errors.Join(errs...)
}

// begin brings the model to where training starts: a resumed run to its checkpoint; a
// new run evaluates its untrained model, then writes its configuration and its first
// checkpoint (step 0) in place of whatever run the directory held.
func (r *run) begin(ctx context.Context) error {
	r.res = &Result{Dir: r.dir, Engine: r.eng.Name()}
	if r.pending != "" {
		r.res.Warnings = append(r.res.Warnings, r.pending)
	}
	if r.resume {
		ck := r.resumeFrom
		if err := r.model.SetParams(ck.Params); err != nil {
			return fmt.Errorf("checkpoint %s does not fit this run: %w", r.dir, err)
		}
		r.hist = ck.History
		r.hist.Sec = readTimings(r.dir, r.hist.Step)
		r.res.Untrained = ck.Untrained
		r.held = r.hist.last()
		// config.json says what the run now is (a larger --steps, another device), so
		// that the next resume continues this one.
		return writeJSON(filepath.Join(r.dir, ConfigFile), r.cfg)
	}
	// One draw: the untrained model's numbers are a baseline, not worth the spread's cost.
	u, _, err := evaluate(ctx, r.model, r.data, r.cfg.EvalPaths, r.cfg.Seed, false, 1)
	if ctx.Err() != nil {
		return fmt.Errorf("training interrupted before its first step, while evaluating the untrained model: " +
			"nothing was trained and nothing written; run the same gosde train again to start it")
	}
	if err != nil {
		return fmt.Errorf("evaluating the untrained model: %w", err)
	}
	r.res.Untrained = &u
	if r.cfg.Overwrite {
		// The old run's outputs would describe another model; its configuration and
		// checkpoint are replaced next, each whole.
		for _, name := range []string{MetricsFile, TimingsFile, PathsPlot, MarginalsPlot, CurvesPlot} {
			if err := os.Remove(filepath.Join(r.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("starting %s over: %w", r.dir, err)
			}
		}
	}
	if err := writeJSON(filepath.Join(r.dir, ConfigFile), r.cfg); err != nil {
		return err
	}
	// The starting point, written whatever it samples: the run begins here.
	return r.write()
}

// train takes steps until the run's count or time limit, with periodic checkpoints;
// it stops early on interruption (ctx) and on a non-finite step.
func (r *run) train(ctx context.Context, trainStart time.Time, report func(Progress)) error {
	for r.model.Steps() < r.cfg.Steps {
		elapsed := time.Since(trainStart).Seconds()
		if r.cfg.MaxSeconds > 0 && elapsed >= r.cfg.MaxSeconds {
			break
		}
		if s, ok := swaStartByTime(r.cfg, r.model.Steps(), elapsed); ok {
			if err := startSWA(r.dir, &r.cfg, r.model, s); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return r.interrupted()
		}
		st, err := r.model.step(r.data.Train)
		if err != nil {
			if st.nonFinite {
				return r.stopNonFinite(err)
			}
			return err
		}
		r.hist.add(st)
		r.report(st, report)
		if r.cfg.CheckpointEvery > 0 && r.model.Steps()%r.cfg.CheckpointEvery == 0 {
			unusable, err := r.keep()
			if err != nil {
				return err
			}
			if unusable != nil && !r.warnedUnusable {
				// Training goes on: the model may recover by the next checkpoint.
				r.warnedUnusable = true
				w := fmt.Sprintf("warning: the checkpoint of step %d was not written: %v; %s keeps %s (shown once per run)",
					st.Step, unusable, CheckpointFile, heldName(r.held))
				r.res.Warnings = append(r.res.Warnings, w)
				r.warnNext(w)
			}
		}
	}
	return nil
}

// report sends step st's progress, with the warnings due.
func (r *run) report(st Stats, report func(Progress)) {
	pr := Progress{Stats: st, Total: r.cfg.Steps, Engine: r.eng.Name(), Warning: r.pending}
	r.pending = ""
	// Only the reversible adjoint promises to retrace the forward solve; the continuous
	// adjoint's gap to the stored outputs is its discretisation error, reset at each.
	reversible := r.cfg.Model != "latent-sde" || r.cfg.Adjoint == "reversible"
	if reversible && !r.warnedRecon && r.cfg.ReconstructionWarn > 0 && st.Reconstruction > r.cfg.ReconstructionWarn {
		r.warnedRecon = true
		w := reconstructionWarning(st.Step, st.Reconstruction, r.cfg.ReconstructionWarn)
		r.res.Warnings = append(r.res.Warnings, w)
		if pr.Warning != "" {
			w = pr.Warning + "\n" + w
		}
		pr.Warning = w
	}
	if report != nil {
		report(pr)
	}
}

// interrupted keeps the state of the last completed step and returns ErrInterrupted.
func (r *run) interrupted() error {
	unusable, err := r.keep()
	if err != nil {
		return err
	}
	if unusable != nil {
		return interruptedError(fmt.Sprintf("training interrupted; the weights after step %d were not kept (%v): the checkpoint holds %s, the last whose model samples finite values; continue with --resume",
			r.hist.last(), unusable, heldName(r.held)))
	}
	return ErrInterrupted
}

// stopNonFinite ends a run whose step failed with a non-finite loss or gradient (which
// changed no parameter): it keeps the state before that step if its model is usable,
// and says which step the checkpoint holds.
func (r *run) stopNonFinite(stepErr error) error {
	unusable, err := r.keep()
	if err != nil {
		return errors.Join(stepErr, err)
	}
	ckpt := filepath.Join(r.dir, CheckpointFile)
	if unusable != nil {
		return fmt.Errorf("step %d: %w; the weights after step %d are not kept either (%v): %s holds %s, the last good state (try a smaller learning rate)",
			r.model.Steps(), stepErr, r.hist.last(), unusable, ckpt, heldName(r.held))
	}
	return fmt.Errorf("step %d: %w; %s holds %s, the last good state (try a smaller learning rate)",
		r.model.Steps(), stepErr, ckpt, heldName(r.held))
}

// finish writes the final checkpoint, evaluates the trained model and writes the
// metrics and the plots.
func (r *run) finish(ctx context.Context, start, trainStart time.Time) (*Result, error) {
	unusable, err := r.keep()
	if err != nil {
		return nil, err
	}
	if unusable != nil {
		return nil, fmt.Errorf("the trained model (step %d) cannot be evaluated: %v; %s holds %s, the last whose model samples finite values (try a smaller learning rate)",
			r.hist.last(), unusable, filepath.Join(r.dir, CheckpointFile), heldName(r.held))
	}
	cfg, res := r.cfg, r.res
	trained, fake, err := evaluate(ctx, r.model, r.data, cfg.EvalPaths, cfg.Seed, true, EvalDraws)
	if ctx.Err() != nil {
		return nil, ErrInterrupted // the final checkpoint is written; a resume evaluates it
	}
	if err != nil {
		return nil, fmt.Errorf("evaluating the trained model: %w", err)
	}
	if res.TestLoss, err = r.model.testLoss(r.data, cfg.Seed^0x7e57); err != nil {
		return nil, fmt.Errorf("test loss: %w", err)
	}
	if ctx.Err() != nil {
		return nil, ErrInterrupted
	}
	res.Trained, res.Steps, res.Seconds = trained, r.model.Steps(), time.Since(start).Seconds()
	warnings := append(append([]string{}, res.Warnings...), trained.Warnings...)
	out := map[string]any{"untrained": res.Untrained, "trained": res.Trained, "steps": res.Steps, "data": cfg.Data,
		"model": cfg.Model, "test_loss": res.TestLoss, "test_loss_meaning": TestLossMeaning(cfg.Model), "training_seconds": time.Since(trainStart).Seconds(),
		"warnings": warnings, "definitions": metricDefinitions}
	if err := writeJSON(filepath.Join(r.dir, MetricsFile), out); err != nil {
		return nil, err
	}
	return res, drawPlots(r.dir, fake, r.data, cfg, r.hist)
}

// keep writes the current state over the checkpoint if it is usable: every parameter
// (optimiser state and averages included) finite, and a small sample of its model (the
// weight average once there is one, as sampling from the checkpoint would) finite. A
// state that is not is left unwritten, so that the checkpoint always holds a model that
// can be sampled and evaluated; unusable says why.
func (r *run) keep() (unusable, err error) {
	if unusable = probe(r.model, r.cfg.Seed^0x9b0be); unusable != nil {
		return unusable, nil
	}
	return nil, r.write()
}

// probePaths is how many paths keep samples: enough to meet a model that has
// diverged, few enough to cost next to nothing beside a checkpoint.
const probePaths = 16

// probe says why m's state is unusable (nil when it is usable).
func probe(m model, seed uint64) (unusable error) {
	ps := m.Params()
	for _, name := range slices.Sorted(maps.Keys(ps)) {
		for i, x := range ps[name] {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return fmt.Errorf("its parameter %s[%d] is %v", name, i, x)
			}
		}
	}
	p, err := m.Sample(probePaths, seed, m.SWACount() > 0)
	if err != nil {
		// With finite parameters, mostly a solve that diverged (which the solvers
		// report in more than one way); whatever it is, this state cannot be sampled.
		return fmt.Errorf("its model cannot be sampled: %w", err)
	}
	for _, v := range p.Values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("its model samples %v", v)
		}
	}
	return nil
}

// write writes the current state as the checkpoint, and its steps' timings beside it.
func (r *run) write() error {
	if err := Save(filepath.Join(r.dir, CheckpointFile), r.model, r.cfg, r.data, r.hist, r.res.Untrained); err != nil {
		return err
	}
	r.held = r.hist.last()
	return writeTimings(r.dir, r.hist)
}

// heldName names the weights after step s.
func heldName(s int) string {
	if s <= 0 {
		return "the untrained weights (step 0)"
	}
	return fmt.Sprintf("the weights after step %d", s)
}

// interruptedError is an interruption whose message says more than ErrInterrupted's.
type interruptedError string

func (e interruptedError) Error() string        { return string(e) }
func (e interruptedError) Is(target error) bool { return target == ErrInterrupted }

// swaStartByTime is when a run with a time limit starts averaging the SDE-GAN's
// weights, which by default starts after half of the steps: at half of the time limit
// if that comes first, so that a run that the limit ends before half of its steps
// still averages over its second half. It reports the step index after which to
// average (the step about to be taken, index step, is the first averaged) and whether
// to move the start now. An explicit start (SWAStart ≥ 0, or one recorded before) is
// kept.
func swaStartByTime(cfg Config, step int, elapsed float64) (int, bool) {
	if cfg.Model == "latent-sde" || cfg.MaxSeconds <= 0 || cfg.GAN.SWAStart >= 0 ||
		elapsed < cfg.MaxSeconds/2 || step > cfg.Steps/2 {
		return 0, false
	}
	return max(step-1, 0), true
}

// startSWA moves the model's average to start after step index s and records it in
// cfg (so the checkpoints carry it) and in the run directory's config.json, which a
// resumed run is built from: the start, decided by the clock, is then a fixed step
// and resuming stays bit-identical to a run never interrupted.
func startSWA(dir string, cfg *Config, m model, s int) error {
	g, ok := m.(interface{ SetSWAStart(int) error })
	if !ok {
		return fmt.Errorf("the %s model has no weight average to start", cfg.Model)
	}
	if err := g.SetSWAStart(s); err != nil {
		return err
	}
	cfg.GAN.SWAStart = s
	saved, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	saved.GAN.SWAStart = s
	return writeJSON(filepath.Join(dir, ConfigFile), saved)
}

// reconstructionWarning explains a reconstruction error above the threshold.
func reconstructionWarning(step int, got, limit float64) string {
	return fmt.Sprintf("warning: at step %d the reversible adjoint's reconstruction error reached %.3g "+
		"(normalised units; the warning threshold is %.3g): the backward pass no longer retraces the forward "+
		"solve closely, so the gradients are becoming inexact. This is reversible Heun's known weakness on "+
		"strongly dissipative dynamics. Reduce the step size (--dt, latent SDE) or the learning rate; bounded "+
		"(tanh) vector fields keep reversible Heun stable; or use --adjoint backprop for the latent SDE. "+
		"(Shown once per run; --reconstruction-warn 0 disables it.)", step, got, limit)
}

// removeStaleTemps deletes the temporary files that an atomic write leaves behind when
// its process is killed (kill -9, power loss) between creating and renaming them. They
// never replace a run's files, so they are only clutter; Run removes them once it holds
// the directory (never before: they may be a live run's) and again when it ends.
func removeStaleTemps(dir string) {
	for _, name := range []string{ConfigFile, CheckpointFile, MetricsFile, TimingsFile, PathsPlot, MarginalsPlot, CurvesPlot} {
		stale, _ := filepath.Glob(filepath.Join(dir, "."+name+".tmp-*"))
		for _, f := range stale {
			os.Remove(f)
		}
	}
}

// metricDefinitions is written beside the numbers so that metrics.json explains itself.
var metricDefinitions = map[string]string{
	"mmd":                     "MMD² (V-statistic: squared distance between the mean embeddings) between generated paths and a random half of the held-out real paths, Gaussian kernel on depth-3 truncated signatures of the time-augmented path [t rescaled to [0,1], channels standardised by the real data], bandwidth the median pairwise signature distance of the real set; mean over 8 random splits of the real test set",
	"mmd_floor":               "the same MMD² between that half and as many other held-out real paths as there are generated ones: what a perfect generator scores on average, so mmd/mmd_floor near 1 is indistinguishable at this sample size",
	"ks":                      "two-sample Kolmogorov–Smirnov statistic between real and generated values at 11 evenly spaced times (the first and the last included), per channel",
	"ks_max_floor":            "the largest such KS between two disjoint random halves of the real test set, rescaled to the sample sizes of ks_max: about what a perfect generator's ks_max scores",
	"raw_classifier_accuracy": "test accuracy of a logistic regression on the raw path values (every time and channel, standardised) trained to tell real from generated (0.5: indistinguishable); unlike classifier_accuracy it does not see signatures, which the sde-sigker objective matches",
	"raw_classifier_floor":    "the same raw-value classifier between two disjoint random halves of the real test set",
	"corr_last_first":         "per channel, the Pearson correlation over generated paths of the last value with the first (corr_last_first_real: the same for the real test set; corr_last_first_max_diff: the largest difference)",
	"increment_std":           "per channel, the standard deviation over generated paths of the one-step increment Y(t+1) − Y(t) starting at index round(0.4·(T−1)) and at T−2 (increment_std_real: the real test set; increment_std_max_rel_diff: the largest |generated/real − 1|)",
	"classifier_accuracy":     "test accuracy of a logistic regression on standardised depth-3 signatures trained to tell real from generated (0.5: indistinguishable)",
	"tstr_mse":                "train on synthetic, test on real: MSE (normalised units) of a ridge regression predicting the second half of a path from its first half, fitted on generated paths and tested on real ones",
	"trtr_mse":                "the same predictor fitted on real training paths: the reference for tstr_mse",
	"test_loss":               "the model's own loss on the test set after training (test_loss_meaning says which): for the SDE-GAN the Wasserstein estimate mean D(real) − mean D(fake) (averaged networks), for sde-sigker the unbiased signature-kernel MMD² (the training objective plus the real set's constant) in batches of the training batch size at evenly spaced times, for the latent SDE the mean negative ELBO per path. Not a quality measure: the SDE-GAN's has the scale of its own discriminator, which nothing fixes, so a small value does not mean a good generator; use the metrics above",
	"mmd_ratio":               "mmd / mmd_floor",
	"mmd_ceiling":             "the largest mmd any generated set can score against the same real halves (the mean over the splits of the real half's mean kernel value + 1, reached by identical paths infinitely far from every real one): the Gaussian kernel saturates, so a model off by orders of magnitude scores near it, not orders of magnitude above the floor; mmd_ceiling_ratio = mmd_ceiling / mmd_floor, about the number of real test paths",
	"scale":                   "per channel, over all paths and times (normalised units): the real test set's and the generated paths' mean and standard deviation, mean_shift = |generated mean − real mean| / real std, and outside_fraction = the fraction of generated values more than 3 real standard deviations beyond the real test set's range; signatures see a path's increments, not its level, so this is where a shifted or diverged generator shows",
	"scale_ratio_max":         "the largest over channels of generated std / real std or its inverse (1: the right spread; 10 or more raises a warning)",
	"outside_fraction":        "the mean over channels of scale[].outside_fraction (above 0.01 raises a warning)",
	"warnings":                "one sentence for each of these that holds: a generated channel is constant; a channel's standard deviation is 10× too large or too small; more than 1% of generated values lie 3 real standard deviations beyond the real range; the classifiers' test set holds fewer than 100 paths (fewer than about 167 real test or generated paths), where a perfect generator's accuracy scatters by more than ±0.1 (95%); mmd_ceiling_ratio is below 10. The top-level warnings are the trained report's and those raised during training",
	"spread":                  "for the trained model: the median, minimum and maximum of each headline metric over 8 draws, draw k a fresh set of generated paths (sample seed derived from the run's seed and k) measured with its own metric seed (subsamples and splits); draw 0 is the one reported above, and the one the plots show",
}

// TestLossMeaning says what Result.TestLoss is for a model, and how far to read it.
func TestLossMeaning(model string) string {
	switch model {
	case "latent-sde":
		return "mean negative ELBO per test path (lower is better, in the data's normalised units)"
	case "sde-sigker":
		return "unbiased signature-kernel MMD² against the test set (0 is perfect; scale set by the training kernel)"
	}
	return "the discriminator's Wasserstein estimate on the test set: its scale is the discriminator's own, so it says nothing about quality; read the metrics"
}

// stepFor is the solver step: the smallest spacing of the observation times, so that
// every observation interval holds at least one step.
func stepFor(times []float64) float64 {
	dt := math.Inf(1)
	for i := 1; i < len(times); i++ {
		dt = math.Min(dt, times[i]-times[i-1])
	}
	return dt
}

// EvalDraws is how many generated sets, each with its own metric seed, the trained
// model's metrics are computed on (metrics.EvaluateDraws): the report is the first
// draw's, its spread is over all of them.
const EvalDraws = 8

// evaluate samples n paths from the model (its weight average when averaged and it has
// one) and measures them against the test set, on draws generated sets (giving up with
// ctx's error between draws once ctx is done): draw k is
// sampled with seed metrics.DrawSeed(seed^0xe7a1, k) and measured with metric seed
// metrics.DrawSeed(seed, k). Run and Checkpoint.Evaluate both measure this way, so that
// `gosde eval` reproduces what `gosde train` printed. It returns draw 0's sample too, so
// that the plots show the very paths the report's numbers measured.
func evaluate(ctx context.Context, model model, data *Data, n int, seed uint64, averaged bool, draws int) (metrics.Report, *dataset.Paths, error) {
	fakes := make([]*dataset.Paths, draws)
	for k := range fakes {
		if err := ctx.Err(); err != nil {
			return metrics.Report{}, nil, err
		}
		fake, err := model.Sample(n, metrics.DrawSeed(seed^0xe7a1, k), averaged && model.SWACount() > 0)
		if err != nil {
			return metrics.Report{}, nil, err
		}
		fake.Channels = data.Train.Channels
		fakes[k] = fake
	}
	rep, err := metrics.EvaluateDrawsContext(ctx, data.Train, data.Test, fakes, metrics.Options{Seed: seed})
	return rep, fakes[0], err
}

// drawPlots draws the generated paths fake (the model's units; changed in place)
// against the test set, in the data's own units, and the training curves.
func drawPlots(dir string, fake *dataset.Paths, data *Data, cfg Config, hist history) error {
	real := data.Test.Clone()
	for _, p := range []*dataset.Paths{real, fake} {
		if err := data.toDataUnits(p); err != nil {
			return err
		}
	}
	u := unitsOf(cfg.Data)
	if err := plots.Paths(filepath.Join(dir, PathsPlot), real, fake, 30, u); err != nil {
		return err
	}
	if err := plots.Marginals(filepath.Join(dir, MarginalsPlot), real, fake, metrics.FiveTimes(real.T()), u); err != nil {
		return err
	}
	return plots.Curves(filepath.Join(dir, CurvesPlot), hist.series(cfg.Model))
}

// unitsOf is what the axes of the data set spec's plots measure: the Beijing air
// quality's units are known; OU's time has none, and a CSV's times and values are in
// whatever units its file is written in.
func unitsOf(spec string) plots.Units {
	if spec == "ou" {
		return plots.Units{}
	}
	if st, err := os.Stat(spec); spec == "air-quality" || (err == nil && st.IsDir()) {
		return plots.Units{Time: "hours", Channels: dataset.AirQualityUnits}
	}
	return plots.Units{}
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(path, append(b, '\n'))
}

// MarshalJSON writes the configuration with the settings of the trained model only: a
// latent SDE's run has no SDE-GAN block and the SDE-GANs' none of the latent SDE's, and
// only sde-sigker's carries the signature-kernel settings. Reading fills what is
// absent from DefaultConfig (ReadConfig, Load).
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config
	type ganBlock struct {
		gan.Config
		SigKer *gan.SigKerConfig `json:"SigKer,omitempty"`
	}
	out := struct {
		plain
		GAN    *ganBlock      `json:"gan,omitempty"`
		Latent *latent.Config `json:"latent,omitempty"`
	}{plain: plain(c)}
	switch c.Model {
	case "latent-sde":
		out.Latent = &c.Latent
	default:
		out.GAN = &ganBlock{Config: c.GAN}
		if c.Model == "sde-sigker" {
			out.GAN.SigKer = &c.GAN.SigKer
		}
	}
	return json.Marshal(out)
}

// ReadConfig reads a run directory's config.json.
func ReadConfig(dir string) (Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if err != nil {
		return Config{}, err
	}
	c := DefaultConfig()
	if err := json.Unmarshal(b, &c); err != nil {
		return Config{}, fmt.Errorf("%s: %w", filepath.Join(dir, ConfigFile), err)
	}
	return c, nil
}

// history keeps the training curves (one point per step).
type history struct {
	Step  []float64 `json:"step"`
	Loss  []float64 `json:"loss"`
	Recon []float64 `json:"reconstruction_error"`
	// Sec are wall-clock times: kept out of the checkpoint (TimingsFile) so that it
	// depends only on the run.
	Sec []float64 `json:"-"`
}

// last is the number of the last step recorded (0 before the first).
func (h history) last() int {
	if len(h.Step) == 0 {
		return 0
	}
	return int(h.Step[len(h.Step)-1])
}

// timings is TimingsFile: the seconds of each step.
type timings struct {
	Step    curve `json:"step"`
	Seconds curve `json:"seconds"`
}

func writeTimings(dir string, h history) error {
	return writeJSON(filepath.Join(dir, TimingsFile), timings{Step: h.Step, Seconds: h.Sec})
}

// readTimings returns the seconds of each of steps from dir's TimingsFile, NaN where
// it has none (a file missing, or written before the checkpoint's last write).
func readTimings(dir string, steps []float64) []float64 {
	sec := make([]float64, len(steps))
	for i := range sec {
		sec[i] = math.NaN()
	}
	var t timings
	b, err := os.ReadFile(filepath.Join(dir, TimingsFile))
	if err != nil || json.Unmarshal(b, &t) != nil || len(t.Seconds) != len(t.Step) {
		return sec
	}
	at := make(map[float64]float64, len(t.Step))
	for i, s := range t.Step {
		at[s] = t.Seconds[i]
	}
	for i, s := range steps {
		if v, ok := at[s]; ok {
			sec[i] = v
		}
	}
	return sec
}

// curve is a series of numbers that may hold ±Inf or NaN (a loss on its way to
// diverging); JSON has no such numbers, so they are written as null and read back as NaN.
type curve []float64

func (c curve) MarshalJSON() ([]byte, error) {
	vs := make([]*float64, len(c))
	for i := range c {
		if !math.IsNaN(c[i]) && !math.IsInf(c[i], 0) {
			vs[i] = &c[i]
		}
	}
	return json.Marshal(vs)
}

func (c *curve) UnmarshalJSON(b []byte) error {
	var vs []*float64
	if err := json.Unmarshal(b, &vs); err != nil {
		return err
	}
	*c = make(curve, len(vs))
	for i, v := range vs {
		(*c)[i] = math.NaN()
		if v != nil {
			(*c)[i] = *v
		}
	}
	return nil
}

func (h *history) add(st Stats) {
	h.Step = append(h.Step, float64(st.Step))
	h.Loss = append(h.Loss, st.Loss)
	h.Recon = append(h.Recon, st.Reconstruction)
	h.Sec = append(h.Sec, st.Seconds)
}

func (h history) series(modelName string) []plots.Series {
	loss, unit := "Wasserstein estimate: mean D(real) − mean D(fake)", "D(real) − D(fake)"
	switch modelName {
	case "latent-sde":
		loss, unit = "negative ELBO (training minibatch)", "nats per path"
	case "sde-sigker":
		loss, unit = "signature-kernel MMD² (training minibatch, unbiased)", "MMD²"
	}
	return []plots.Series{
		{Name: loss, YLabel: unit, Step: h.Step, Values: h.Loss},
		{Name: "largest reversible-adjoint reconstruction error", YLabel: "error (normalised units)", Step: h.Step, Values: h.Recon},
		{Name: "seconds per step", YLabel: "seconds", Step: h.Step, Values: h.Sec},
	}
}
