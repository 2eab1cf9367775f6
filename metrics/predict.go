package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gosde/gosde/dataset"
)

// PredictOptions configures Predict. Zero values select the defaults.
type PredictOptions struct {
	// Lambda is the relative ridge penalty (default 1e-3): the penalty on the weights
	// is Lambda times the mean variance of the (training) inputs, which makes the fit
	// invariant to the data's scale.
	Lambda float64
}

// Predict fits, on train, a ridge regression predicting the second half of a path
// from its first half, and returns its mean squared error on test. With h = ⌊T/2⌋,
// the input of a path is its values at time indices 0…h−1, all channels, flattened
// (p = h·C numbers) plus a bias; the output is its values at time indices h…T−1, all
// channels (q = (T−h)·C numbers). The fit minimises
//
//	(1/N) Σ_n ‖y_n − W x_n − b‖² + λ‖W‖²_F,   λ = opt.Lambda · tr(Σ_x)/p,
//
// over the N training paths, Σ_x the training inputs' covariance (the bias is not
// penalised: inputs and outputs are centred by their training means, and
// (Σ_x + λI) W = Σ_xy is solved by Cholesky with gonum/mat). The result is the mean
// of (ŷ − y)² over all test paths, output times and channels, in the data's units.
// Report TSTR = Predict(fake, realTest) beside TRTR = Predict(realTrain, realTest).
// Cost: O(N·p² + p³) — no subsampling.
func Predict(train, test *dataset.Paths, opt PredictOptions) (float64, error) {
	if err := checkPair("train", train, "test", test); err != nil {
		return 0, err
	}
	if opt.Lambda == 0 {
		opt.Lambda = 1e-3
	}
	if !(opt.Lambda > 0) || math.IsInf(opt.Lambda, 0) {
		return 0, fmt.Errorf("%w: ridge Lambda %v", errBadOption, opt.Lambda)
	}
	T, C := len(train.Times), len(train.Channels)
	h := T / 2
	p, q := h*C, (T-h)*C
	N := train.N

	// Centred inputs X (N×p) and outputs Y (N×q).
	mx, my := make([]float64, p), make([]float64, q)
	for n := range N {
		v := train.Path(n)
		for k := range p {
			mx[k] += v[k]
		}
		for k := range q {
			my[k] += v[p+k]
		}
	}
	for k := range mx {
		mx[k] /= float64(N)
	}
	for k := range my {
		my[k] /= float64(N)
	}
	X, Y := mat.NewDense(N, p, nil), mat.NewDense(N, q, nil)
	for n := range N {
		v := train.Path(n)
		xr, yr := X.RawRowView(n), Y.RawRowView(n)
		for k := range p {
			xr[k] = v[k] - mx[k]
		}
		for k := range q {
			yr[k] = v[p+k] - my[k]
		}
	}
	A := mat.NewSymDense(p, nil)
	A.SymOuterK(1/float64(N), X.T())
	var tr float64
	for k := range p {
		tr += A.At(k, k)
	}
	lam := opt.Lambda * tr / float64(p)
	if !(lam > 0) {
		lam = opt.Lambda // constant inputs: any positive penalty works
	}
	for k := range p {
		A.SetSym(k, k, A.At(k, k)+lam)
	}
	var B mat.Dense
	B.Mul(X.T(), Y)
	B.Scale(1/float64(N), &B)
	var chol mat.Cholesky
	if !chol.Factorize(A) {
		return 0, fmt.Errorf("metrics: ridge normal equations are not positive definite")
	}
	var W mat.Dense // p×q
	if err := chol.SolveTo(&W, &B); err != nil {
		return 0, fmt.Errorf("metrics: ridge solve: %w", err)
	}

	xt := make([]float64, p)
	pred := make([]float64, q)
	var sse float64
	for n := range test.N {
		v := test.Path(n)
		for k := range p {
			xt[k] = v[k] - mx[k]
		}
		copy(pred, my)
		for k, xk := range xt {
			if xk == 0 {
				continue
			}
			row := W.RawRowView(k)
			for j := range pred {
				pred[j] += xk * row[j]
			}
		}
		for j := range pred {
			d := pred[j] - v[p+j]
			sse += d * d
		}
	}
	return sse / float64(test.N*q), nil
}
