package host

import (
	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/nn"
)

// GANSpec is the shape of an SDE-GAN (package gan) as an engine that computes its
// whole loss and gradient needs it. Each network's parameters are one flat vector:
// initial MLP, then vector field (in the layout of the neuralsde field of the same
// FieldSpec), then readout.
type GANSpec struct {
	Generator     FieldSpec // the generator's SDE (state = the hidden size H)
	Discriminator FieldSpec // the discriminator's CDE (control 1 + C channels)
	// GenInitial maps the initial noise V (InitialNoise values) to X₀; GenReadout X to
	// Y (C channels); DiscInitial the control's first value [t₀, Y₀] to H₀;
	// DiscReadout H_T to the score.
	GenInitial, GenReadout, DiscInitial, DiscReadout *nn.MLP
}

// GANLossStats are what a GANLoss reports besides the gradients.
type GANLossStats struct {
	FakeMean, RealMean float64 // mean D(fake), mean D(real); the loss is their difference
	// Finite reports, for Step, that the loss and every gradient were finite, and so
	// that the update was applied.
	Finite bool
	// GenReconstruction and DiscReconstruction are the reversible adjoints' largest
	// reconstruction errors (zero without gradients).
	GenReconstruction, DiscReconstruction float64
}

// GANLoss computes the SDE-GAN's Wasserstein loss and its gradient for one batch on
// one device, from the inputs a step draws (the initial noise, the real minibatch,
// the generator's Brownian motion): everything in between — generated paths,
// controls, scores, cotangents — stays on the device. Not safe for concurrent use.
type GANLoss interface {
	// LossGrad evaluates mean D(fake) − mean D(real) with generator parameters gen
	// and discriminator parameters disc, on B generated paths (initial noise v,
	// B×InitialNoise path-major; Brownian motion mo, B paths) against B real paths
	// (real, len(Ts)×B×C, path-major within each time). With grad it writes the
	// loss's gradient with respect to gen into genGrad and to disc into discGrad
	// (not negated). A loss or gradient that is not finite is reported through the
	// values (the caller checks them), not as an error.
	LossGrad(gen, disc, v, real []float32, mo brownian.Motion, grad bool, genGrad, discGrad []float32) (GANLossStats, error)

	// SetState copies a training state to the device, where Step keeps it; State
	// copies it back into the slices of st (which must have the lengths of the
	// parameters).
	SetState(st GANState) error
	State(st GANState) error
	// Step is one whole training step on the device-held state: the loss and gradient
	// as LossGrad, then — only when the loss and every gradient are finite (Finite) —
	// Adadelta on both networks (the generator ascending the loss), clipping of the
	// discriminator's weights and, when up.Average, the weight averages.
	Step(v, real []float32, mo brownian.Motion, up GANUpdate) (GANLossStats, error)
	// Prefetch names the Brownian motion of a coming Step, so that the engine may
	// draw its increments on the host while the device computes the steps before:
	// the caller must not use mo itself until it passes it to Step (or to Prefetch
	// again, which forgets the oldest). The results do not change, only when the
	// host does the work.
	Prefetch(mo brownian.Motion)

	Close() error
}

// GANState is an SDE-GAN's training state: both networks, their Adadelta
// accumulators and their weight averages.
type GANState struct {
	Gen, Disc               []float32
	GenSquare, GenDelta     []float32 // Adadelta's square_avg and acc_delta
	DiscSquare, DiscDelta   []float32
	GenAverage, DiscAverage []float32
}

// GANUpdate are the hyperparameters of one device-side step.
type GANUpdate struct {
	Gen, Disc AdadeltaUpdate
	// HoldGenerator skips the generator's update: its parameters and optimiser state
	// stay as they are (a discriminator-only step, gan.Config.DiscSteps > 1).
	HoldGenerator bool
	// Clip lists the discriminator's weight matrices (offsets into its vector) with
	// their entrywise limits.
	Clip []nn.WeightRange
	// Average folds the updated parameters into the averages, of which AverageCount
	// have been taken so far.
	Average      bool
	AverageCount int
}

// AdadeltaUpdate are torch.optim.Adadelta's hyperparameters (see optim.AdadeltaConfig).
type AdadeltaUpdate struct{ LR, Rho, Eps, WeightDecay float64 }

// GANEngine is implemented by engines that can run a whole SDE-GAN loss and gradient
// on their device (the GPU engine); models use it when their engine has it, and
// separate solves through Solver otherwise.
type GANEngine interface {
	Engine
	// NewGANLoss returns the loss of spec on problem prob (Batch: B generated and B
	// real paths).
	NewGANLoss(spec GANSpec, prob Problem) (GANLoss, error)
}
