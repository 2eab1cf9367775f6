package host

import "github.com/gosde/gosde/nn"

// LatentSpec is the posterior SDE of a latent SDE (package latent) as an engine that
// solves it needs it: on the state u = (z ∈ ℝᵈ, c ∈ ℝᵏ, ℓ),
//
//	dz = f(t, z, c)dt + σ(t, z)∘dW,  dc = 0,  dℓ = ½‖(f − h(t, z))/σ(t, z)‖² dt
//
// with σ = SigmaMin + (SigmaMax − SigmaMin)·sigmoid(g(t, z)), diagonal noise on all
// d + k + 1 channels (zero on c and ℓ). Its parameters are f's, then h's, then g's.
type LatentSpec struct {
	Latent, Context    int     // d and k
	Posterior          *nn.MLP // f: [t, z, c] → d
	Prior              *nn.MLP // h: [t, z] → d
	Diffusion          *nn.MLP // g: [t, z] → d, before the sigmoid
	SigmaMin, SigmaMax float64
}

// LatentEngine is implemented by engines that solve a latent SDE's posterior on their
// device (the GPU engine). The solver is driven by Brownian motion of d + k + 1
// channels; the CPU computes the same field in package latent itself.
type LatentEngine interface {
	Engine
	NewLatentSolver(spec LatentSpec, prob Problem) (Solver, error)
}
