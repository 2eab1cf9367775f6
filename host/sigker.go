package host

import (
	"fmt"

	"github.com/gosde/gosde/sigkernel"
)

// SigScoreSpec is the shape of one signature-kernel scoring rule: M generated and N
// real paths per batch, each of Len points of dimension Dim (time-augmented and
// normalised by the model), the kernel's options, and whether the real set's constant
// is computed too.
type SigScoreSpec struct {
	M, N, Len, Dim int
	Kernel         sigkernel.Options
	RealWithin     bool
}

// SigScorer computes the scoring rule of sigkernel.ScoreRule for batches of one spec.
// It is not safe for concurrent use.
type SigScorer interface {
	// Score returns the rule's terms for generated paths gen (M·Len·Dim values, path-major,
	// row-major points) against real (N·Len·Dim) and, when grad is not nil (len(gen)),
	// writes ∂Value/∂gen into it.
	Score(gen, real, grad []float64) (sigkernel.Score, error)
	Close() error
}

// SigKernelEngine is implemented by engines that compute the signature kernel's Gram
// matrices and their gradients on their device (the GPU engine); models use it when
// their engine has it, and the CPU's scorer otherwise.
type SigKernelEngine interface {
	Engine
	NewSigScorer(spec SigScoreSpec) (SigScorer, error)
}

// NewCPUSigScorer returns the CPU's scorer: sigkernel.ScoreRule, on all cores.
func NewCPUSigScorer(spec SigScoreSpec) (SigScorer, error) {
	if err := spec.Check(); err != nil {
		return nil, err
	}
	return cpuSigScorer{spec}, nil
}

// NewSigScorer is the CPU engine's scorer (NewCPUSigScorer).
func (*CPU) NewSigScorer(spec SigScoreSpec) (SigScorer, error) { return NewCPUSigScorer(spec) }

// Check reports a spec that no engine can score: too few paths or points, or invalid
// kernel options.
func (s SigScoreSpec) Check() error {
	minN := 1
	if s.RealWithin {
		minN = 2
	}
	if s.M < 2 || s.N < minN || s.Len < 2 || s.Dim < 1 {
		return fmt.Errorf("host: signature-kernel score of %d generated and %d real paths of %d points of dimension %d: need at least 2 generated, %d real, 2 points, dimension 1", s.M, s.N, s.Len, s.Dim, minN)
	}
	return s.Kernel.Check()
}

type cpuSigScorer struct{ spec SigScoreSpec }

func (c cpuSigScorer) Score(gen, real, grad []float64) (sigkernel.Score, error) {
	s := c.spec
	return sigkernel.ScoreRule(sigkernel.Paths{X: gen, N: s.M, Len: s.Len, Dim: s.Dim},
		sigkernel.Paths{X: real, N: s.N, Len: s.Len, Dim: s.Dim}, s.Kernel, s.RealWithin, grad)
}

func (cpuSigScorer) Close() error { return nil }
