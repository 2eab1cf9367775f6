package training

import (
	"errors"
	"fmt"

	"github.com/gosde/gosde/dataset"
	"github.com/gosde/gosde/gan"
	"github.com/gosde/gosde/host"
	"github.com/gosde/gosde/latent"
	"github.com/gosde/gosde/solver"
)

// Models that Run trains.
var Models = []string{"sde-gan", "sde-sigker", "latent-sde"}

// model is what a training run asks of a model; gan.Model and latent.Model are
// adapted to it below.
type model interface {
	step(real *dataset.Paths) (Stats, error)
	// testLoss is the model's own loss on the held-out data.Test (NaN where it has
	// none that is comparable across runs); data.Train is the training set.
	testLoss(data *Data, seed uint64) (float64, error)
	Sample(n int, seed uint64, averaged bool) (*dataset.Paths, error)
	Params() map[string][]float32
	SetParams(map[string][]float32) error
	Shapes() map[string][]int
	Steps() int
	SWACount() int
	// Close releases what the model holds on its engine (not the engine).
	Close() error
}

// errLatentGPUMethod refuses an explicit GPU for a latent SDE solved otherwise than by
// reversible Heun and its adjoint (the GPU engine's only scheme), rather than quietly
// running it on the CPU: whoever asked for the GPU expects its speed.
var errLatentGPUMethod = errors.New("the GPU engine solves the latent SDE with --method reversible-heun --adjoint reversible only; use --device cpu (or auto) for the others")

// latentOnGPU reports whether a latent SDE with these solver names can use a GPU.
func latentOnGPU(method, adjoint string) bool {
	return method == "reversible-heun" && adjoint == "reversible"
}

// checkDevice reports a device that cannot compute model in this binary, without
// opening anything.
func checkDevice(model, device, method, adjoint string) error {
	if model == "latent-sde" && device == "gpu" && !latentOnGPU(method, adjoint) {
		return errLatentGPUMethod
	}
	return host.Check(device)
}

// Stats is one training step, whatever the model.
type Stats struct {
	Step int
	// Loss is the curve to watch: the Wasserstein estimate mean D(real) − mean D(fake)
	// for the SDE-GAN, the batch's unbiased signature-kernel MMD² for sde-sigker, the
	// negative ELBO for the latent SDE.
	Loss float64
	// Detail names the model's other numbers, for progress lines.
	Detail string
	// Reconstruction is the largest reconstruction error of the reversible adjoints.
	Reconstruction float64
	Seconds        float64
	nonFinite      bool
}

// newModel builds the model of cfg for data observed at times, with the data's channel
// count and the run's step count and seed filled in. The SDE-GAN solves on eng (nil:
// the CPU engine); the latent SDE too when it is solved by reversible Heun and its
// adjoint, else on the CPU.
func newModel(cfg *Config, channels int, times []float64, eng host.Engine) (model, error) {
	dt := stepFor(times)
	switch cfg.Model {
	case "sde-gan", "sde-sigker":
		g := cfg.GAN
		g.DataChannels, g.Steps, g.Seed, g.Dt = channels, cfg.Steps, cfg.Seed, dt
		g.Objective = gan.ObjectiveWasserstein
		if cfg.Model == "sde-sigker" {
			g.Objective = gan.ObjectiveSigKer
		}
		cfg.GAN = g
		m, err := gan.New(g, times, gan.WithEngine(eng))
		if err != nil {
			return nil, err
		}
		if g.Objective == gan.ObjectiveSigKer {
			return sigKerModel{ganModel{m}}, nil
		}
		return ganModel{m}, nil
	case "latent-sde":
		l := cfg.Latent
		l.DataChannels, l.Steps, l.Seed = channels, cfg.Steps, cfg.Seed
		if l.Dt == 0 {
			l.Dt = dt
		}
		cfg.Latent = l
		var opts []latent.Option
		if latentOnGPU(cfg.Method, cfg.Adjoint) {
			// Other schemes stay on the CPU under --device auto (Check refused them
			// with an explicit --device gpu).
			opts = append(opts, latent.WithEngine(eng))
		}
		m, err := latent.New(l, times, opts...)
		if err != nil {
			return nil, err
		}
		return latentModel{m}, nil
	}
	return nil, fmt.Errorf("unknown model %q: the models are %v", cfg.Model, Models)
}

type ganModel struct{ *gan.Model }

func (g ganModel) step(real *dataset.Paths) (Stats, error) {
	st, err := g.Step(real)
	return Stats{Step: st.Step, Loss: st.GenLoss, Seconds: st.Seconds,
		Detail:         fmt.Sprintf("W %.4f  D(fake) %.4f  D(real) %.4f", st.GenLoss, st.FakeScore, st.RealScore),
		Reconstruction: max(st.GenReconstruction, st.DiscReconstruction),
		nonFinite:      errors.Is(err, gan.ErrNonFinite)}, err
}

// testLoss is the Wasserstein estimate on the test set with the averaged networks.
func (g ganModel) testLoss(data *Data, seed uint64) (float64, error) {
	l, err := g.Evaluate(data.Test, g.SWACount() > 0, seed)
	return -l, err
}

// sigKerModel is the SDE-GAN's generator trained by the signature-kernel score.
type sigKerModel struct{ ganModel }

func (g sigKerModel) step(real *dataset.Paths) (Stats, error) {
	st, err := g.Step(real)
	return Stats{Step: st.Step, Loss: st.Score.MMD2(), Seconds: st.Seconds,
		Detail:         fmt.Sprintf("MMD² %.4f  score %.4f", st.Score.MMD2(), st.Score.Value()),
		Reconstruction: st.GenReconstruction,
		nonFinite:      errors.Is(err, gan.ErrNonFinite)}, err
}

// testLoss is the unbiased signature-kernel MMD² against the test set with the
// averaged generator.
func (g sigKerModel) testLoss(data *Data, seed uint64) (float64, error) {
	return g.EvaluateScore(data.Train, data.Test, g.SWACount() > 0, seed)
}

type latentModel struct{ *latent.Model }

func (l latentModel) step(real *dataset.Paths) (Stats, error) {
	st, err := l.Step(real)
	return Stats{Step: st.Step, Loss: st.Loss, Seconds: st.Seconds, Reconstruction: st.Reconstruction,
		Detail:    fmt.Sprintf("−ELBO %.4f  log-lik %.4f  KL %.4f", st.Loss, st.LogLik, st.KL0+st.KLPath),
		nonFinite: errors.Is(err, latent.ErrNonFinite)}, err
}

func (l latentModel) testLoss(data *Data, seed uint64) (float64, error) {
	return l.Evaluate(data.Test, seed)
}

// parseSolver maps the command line's names to the solver's method and adjoint.
func parseSolver(method, adjoint string) (solver.Method, solver.Adjoint, error) {
	ms := map[string]solver.Method{"reversible-heun": solver.ReversibleHeun, "midpoint": solver.Midpoint,
		"heun": solver.Heun, "euler": solver.EulerMaruyama}
	as := map[string]solver.Adjoint{"reversible": solver.Reversible, "continuous": solver.Continuous, "backprop": solver.Backprop}
	m, ok := ms[method]
	if !ok {
		return 0, 0, fmt.Errorf("unknown method %q: choose reversible-heun, midpoint, heun or euler", method)
	}
	a, ok := as[adjoint]
	if !ok {
		return 0, 0, fmt.Errorf("unknown adjoint %q: choose reversible, continuous or backprop", adjoint)
	}
	switch {
	case a == solver.Reversible && m == solver.Midpoint:
		return 0, 0, fmt.Errorf("--method midpoint cannot use the reversible adjoint (--adjoint reversible, the default): only reversible-heun runs backwards exactly; use --adjoint continuous or --adjoint backprop")
	case a == solver.Reversible && m != solver.ReversibleHeun:
		return 0, 0, fmt.Errorf("--method %s cannot use the reversible adjoint (--adjoint reversible, the default): only reversible-heun runs backwards exactly; use --adjoint backprop", method)
	case a == solver.Continuous && m == solver.ReversibleHeun:
		return 0, 0, fmt.Errorf("--adjoint continuous is implemented for --method midpoint only; with --method reversible-heun use --adjoint reversible or --adjoint backprop")
	case a == solver.Continuous && m != solver.Midpoint:
		return 0, 0, fmt.Errorf("--adjoint continuous is implemented for --method midpoint only; with --method %s use --adjoint backprop", method)
	}
	return m, a, nil
}
