package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/gosde/gosde/dataset"
)

// ClassifyOptions configures Classify. Zero values select the defaults.
type ClassifyOptions struct {
	// Depth is the signature depth of the features (default DefaultDepth = 3).
	Depth int
	// TrainFrac is the fraction of each class used for training (default 0.7); the
	// rest is the test set. Each class keeps at least one path on each side.
	TrainFrac float64
	// Lambda is the L2 penalty on the weights (not the bias) of the logistic
	// regression, on standardised features (default 1e-3).
	Lambda float64
	// MaxPaths caps the paths used per class (default DefaultMaxPaths = 1000).
	MaxPaths int
	// Seed drives the subsampling and the train/test split.
	Seed uint64
}

func (o ClassifyOptions) withDefaults() (ClassifyOptions, error) {
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.TrainFrac == 0 {
		o.TrainFrac = 0.7
	}
	if o.Lambda == 0 {
		o.Lambda = 1e-3
	}
	if o.MaxPaths == 0 {
		o.MaxPaths = DefaultMaxPaths
	}
	switch {
	case o.Depth < 1:
		return o, fmt.Errorf("%w: classifier depth %d", errBadOption, o.Depth)
	case !(o.TrainFrac > 0 && o.TrainFrac < 1):
		return o, fmt.Errorf("%w: classifier TrainFrac %v, need 0 < TrainFrac < 1", errBadOption, o.TrainFrac)
	case !(o.Lambda > 0) || math.IsInf(o.Lambda, 0):
		return o, fmt.Errorf("%w: classifier Lambda %v", errBadOption, o.Lambda)
	case o.MaxPaths < 2:
		return o, fmt.Errorf("%w: classifier MaxPaths %d, need at least 2", errBadOption, o.MaxPaths)
	}
	return o, nil
}

// Classify returns the test accuracy of a classifier trained to tell real from fake
// paths: 0.5 means indistinguishable, 1 means always told apart.
//
// Classes are made equal: n = min(real.N, fake.N, opt.MaxPaths) paths are drawn from
// each set (a seeded permutation), and each class is split into ntr = round(TrainFrac·n)
// training paths (clamped to [1, n−1]; default TrainFrac 0.7) and n − ntr test paths.
// Features are the depth-opt.Depth (default 3) truncated signature of the
// time-augmented, standardised path, exactly as in MMD (time rescaled to [0, 1];
// channels centred and scaled by the whole real set's mean and standard deviation),
// then each feature is standardised by its training mean and standard deviation
// (a feature constant on the training set is set to 0). The classifier is L2-regularised
// logistic regression, P(real | f) = 1/(1 + exp(−(w·f + b))), minimising
//
//	(1/N) Σ_i [log(1 + e^{z_i}) − y_i z_i] + (λ/2)‖w‖²,   z_i = w·f_i + b,
//
// over the 2·ntr training paths (y = 1 real, 0 fake), λ = opt.Lambda (default 1e-3),
// by Newton's method with backtracking line search (Cholesky solves, gonum/mat). A test
// path is called real when z ≥ 0; the accuracy is the fraction of the 2(n − ntr) test
// paths called correctly.
func Classify(real, fake *dataset.Paths, opt ClassifyOptions) (float64, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	if err := checkSignature(real.C()+1, opt.Depth); err != nil {
		return 0, err
	}
	mean, scale := channelStats(real)
	return classifyWith(real, fake, opt, func(p *dataset.Paths, idx []int) ([]float64, int) {
		return sigFeatures(p, idx, opt.Depth, mean, scale)
	})
}

// RawClassify is Classify with the raw path values as features in place of
// signatures: each path's T·C readings, each standardised by its training mean and
// standard deviation. Everything else — class sizes, seeded subsampling and split,
// logistic regression, test accuracy — is Classify's, so that with the same options
// the two see the same paths and differ only in features; opt.Depth is unused.
//
// A generator trained on a signature objective can match the signature classifier's
// features without matching the paths value by value; this classifier does not look
// through signatures. Being linear in the values, it sees differences of the mean
// path (at any time, in any direction of the T·C readings) but not differences of
// spread alone: the marginal KS statistics and the increment spreads cover those.
// Cost: O(n·(T·C)²) per Newton step.
func RawClassify(real, fake *dataset.Paths, opt ClassifyOptions) (float64, error) {
	if err := checkPair("real", real, "fake", fake); err != nil {
		return 0, err
	}
	opt, err := opt.withDefaults()
	if err != nil {
		return 0, err
	}
	return classifyWith(real, fake, opt, rawFeatures)
}

// rawFeatures returns the selected paths' values, one row of T·C per path.
func rawFeatures(p *dataset.Paths, idx []int) ([]float64, int) {
	D := len(p.Times) * len(p.Channels)
	out := make([]float64, 0, len(idx)*D)
	for _, n := range idx {
		out = append(out, p.Path(n)...)
	}
	return out, D
}

// classifyWith is Classify's procedure with the features of the selected paths
// computed by features (rows of D numbers); opt must have its defaults applied.
func classifyWith(real, fake *dataset.Paths, opt ClassifyOptions,
	features func(p *dataset.Paths, idx []int) ([]float64, int)) (float64, error) {
	n, ntr := classSizes(real.N, fake.N, opt)
	ri := newRNG(opt.Seed, streamClassReal).Perm(real.N)[:n]
	fi := newRNG(opt.Seed, streamClassFake).Perm(fake.N)[:n]
	xr, D := features(real, ri)
	xf, _ := features(fake, fi)

	// Assemble training and test sets: real rows first, labels 1 then 0.
	nte := n - ntr
	train := make([]float64, 0, 2*ntr*D)
	train = append(train, xr[:ntr*D]...)
	train = append(train, xf[:ntr*D]...)
	test := make([]float64, 0, 2*nte*D)
	test = append(test, xr[ntr*D:]...)
	test = append(test, xf[ntr*D:]...)
	ytr := make([]float64, 2*ntr)
	for i := range ntr {
		ytr[i] = 1
	}
	standardise(train, test, D)

	w, b, err := fitLogistic(train, ytr, D, opt.Lambda)
	if err != nil {
		return 0, err
	}
	correct := 0
	for i := range 2 * nte {
		f := test[i*D : (i+1)*D]
		z := b
		for k, v := range f {
			z += w[k] * v
		}
		if (z >= 0) == (i < nte) {
			correct++
		}
	}
	return float64(correct) / float64(2*nte), nil
}

// classSizes is the number of paths classifyWith draws from each class and how many
// of them it trains on; opt must have its defaults applied.
func classSizes(nReal, nFake int, opt ClassifyOptions) (n, ntr int) {
	n = min(nReal, nFake, opt.MaxPaths)
	return n, min(max(int(math.Round(opt.TrainFrac*float64(n))), 1), n-1)
}

// standardise rescales each column of train and test (rows of length D) by the mean
// and standard deviation of that column in train; a column (nearly) constant in train
// is set to zero in both.
func standardise(train, test []float64, D int) {
	n := len(train) / D
	for k := range D {
		var m float64
		for i := range n {
			m += train[i*D+k]
		}
		m /= float64(n)
		var v float64
		for i := range n {
			d := train[i*D+k] - m
			v += d * d
		}
		s := math.Sqrt(v / float64(n))
		inv := 0.0
		if s > 1e-12*(1+math.Abs(m)) {
			inv = 1 / s
		}
		for _, x := range [][]float64{train, test} {
			for i := k; i < len(x); i += D {
				x[i] = (x[i] - m) * inv
			}
		}
	}
}

// logLoss is log(1 + e^z), computed stably.
func logLoss(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// fitLogistic minimises the L2-regularised mean logistic loss over rows x (D columns)
// with labels y ∈ {0, 1} by damped Newton steps. The bias is not penalised.
func fitLogistic(x, y []float64, D int, lambda float64) (w []float64, b float64, err error) {
	n := len(y)
	P := D + 1 // parameters: w then b
	theta := make([]float64, P)
	z := make([]float64, n)
	obj := func(th []float64) float64 {
		var s, r float64
		for i := range n {
			zi := th[D]
			xi := x[i*D : (i+1)*D]
			for k, v := range xi {
				zi += th[k] * v
			}
			z[i] = zi
			s += logLoss(zi) - y[i]*zi
		}
		for k := range D {
			r += th[k] * th[k]
		}
		return s/float64(n) + lambda/2*r
	}
	grad := make([]float64, P)
	hess := mat.NewSymDense(P, nil)
	step := mat.NewVecDense(P, nil)
	trial := make([]float64, P)
	var chol mat.Cholesky
	f := obj(theta)
	for range 100 {
		// Gradient and Hessian at theta (z holds its margins).
		clear(grad)
		h := hess.RawSymmetric().Data
		clear(h)
		for i := range n {
			p := sigmoid(z[i])
			r, c := p-y[i], p*(1-p)
			xi := x[i*D : (i+1)*D]
			for k, v := range xi {
				grad[k] += r * v
				cv := c * v
				row := h[k*P : (k+1)*P]
				for l := k; l < D; l++ {
					row[l] += cv * xi[l]
				}
				row[D] += cv
			}
			grad[D] += r
			h[D*P+D] += c
		}
		inv := 1 / float64(n)
		for k := range P {
			grad[k] *= inv
			for l := k; l < P; l++ {
				h[k*P+l] *= inv
			}
		}
		for k := range D {
			grad[k] += lambda * theta[k]
			h[k*P+k] += lambda
		}
		h[D*P+D] += 1e-10
		if !chol.Factorize(hess) {
			return nil, 0, fmt.Errorf("metrics: classifier Hessian is not positive definite")
		}
		if err := chol.SolveVecTo(step, mat.NewVecDense(P, grad)); err != nil {
			return nil, 0, fmt.Errorf("metrics: classifier Newton step: %w", err)
		}
		// Backtracking along −step (a descent direction: grad·step > 0).
		var slope, size float64
		for k := range P {
			slope += grad[k] * step.AtVec(k)
			size = max(size, math.Abs(step.AtVec(k)))
		}
		t := 1.0
		var ft float64
		for range 40 {
			for k := range P {
				trial[k] = theta[k] - t*step.AtVec(k)
			}
			ft = obj(trial)
			if ft <= f-1e-4*t*slope {
				break
			}
			t /= 2
		}
		if ft > f { // no progress possible at float64 precision
			obj(theta)
			break
		}
		copy(theta, trial)
		done := t*size < 1e-10 || f-ft < 1e-15*(1+math.Abs(f))
		f = ft
		if done {
			break
		}
	}
	return theta[:D], theta[D], nil
}
