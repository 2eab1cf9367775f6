package solver

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gosde/gosde/brownian"
)

// testSDE is a small nonlinear, time-dependent SDE with parameters θ, for every noise
// type, with a hand-written VJP:
//
//	f_i = Σ_j A_ij tanh(y_j) + b_i cos t
//	Diagonal:         g_i  = S_i sin(y_i) + c_i
//	General, Scalar:  g_ij = S_ij tanh(y_{(i+j) mod d}) + c_ij
//	Additive:         g_ij = c_ij (1 + ½ sin t)          (S unused)
//
// θ = [A (d×d), b (d), S (gs), c (gs)], gs = d (Diagonal) or d·m. It counts its calls
// and checks the activation reuse protocol: every VJP must be at the (t, y) of the
// most recent Eval.
type testSDE[F Float] struct {
	d, m  int
	noise Noise
	theta []F

	lastT      float64
	lastY      []F
	evals      int
	vjps       int
	violations int
}

func newTestSDE[F Float](d, m int, noise Noise, seed uint64) *testSDE[F] {
	s := &testSDE[F]{d: d, m: m, noise: noise}
	r := rand.New(rand.NewPCG(seed, 7))
	gs := s.gs()
	s.theta = make([]F, d*d+d+2*gs)
	for j := range s.theta {
		s.theta[j] = F(0.6 * (r.Float64() - 0.5))
	}
	return s
}

func (s *testSDE[F]) gs() int {
	if s.noise == Diagonal {
		return s.d
	}
	return s.d * s.m
}

func (s *testSDE[F]) Dim() int       { return s.d }
func (s *testSDE[F]) NoiseDim() int  { return s.m }
func (s *testSDE[F]) Noise() Noise   { return s.noise }
func (s *testSDE[F]) NumParams() int { return len(s.theta) }

func (s *testSDE[F]) parts() (A, b, S, c []F) {
	d, gs := s.d, s.gs()
	th := s.theta
	return th[:d*d], th[d*d : d*d+d], th[d*d+d : d*d+d+gs], th[d*d+d+gs:]
}

func tanh[F Float](x F) F { return F(math.Tanh(float64(x))) }

func (s *testSDE[F]) Eval(t float64, y, f, g []F) {
	s.evals++
	s.lastT = t
	s.lastY = append(s.lastY[:0], y...)
	d, m := s.d, s.m
	A, b, S, c := s.parts()
	ct := F(math.Cos(t))
	st := F(1 + 0.5*math.Sin(t))
	batch := len(y) / d
	for p := 0; p < batch; p++ {
		yp := y[p*d : (p+1)*d]
		for i := 0; i < d; i++ {
			var acc F
			for j := 0; j < d; j++ {
				acc += A[i*d+j] * tanh(yp[j])
			}
			f[p*d+i] = acc + b[i]*ct
		}
		switch s.noise {
		case Diagonal:
			for i := 0; i < d; i++ {
				g[p*d+i] = S[i]*F(math.Sin(float64(yp[i]))) + c[i]
			}
		case Additive:
			for k := 0; k < d*m; k++ {
				g[p*d*m+k] = c[k] * st
			}
		default:
			for i := 0; i < d; i++ {
				for j := 0; j < m; j++ {
					g[(p*d+i)*m+j] = S[i*m+j]*tanh(yp[(i+j)%d]) + c[i*m+j]
				}
			}
		}
	}
}

func (s *testSDE[F]) VJP(t float64, y, af, ag, ay, atheta []F) {
	s.vjps++
	if t != s.lastT || len(y) != len(s.lastY) {
		s.violations++
	} else {
		for j := range y {
			if y[j] != s.lastY[j] {
				s.violations++
				break
			}
		}
	}
	d, m := s.d, s.m
	A, _, S, _ := s.parts()
	gs := s.gs()
	dA := atheta[:d*d]
	db := atheta[d*d : d*d+d]
	dS := atheta[d*d+d : d*d+d+gs]
	dc := atheta[d*d+d+gs:]
	ct := F(math.Cos(t))
	st := F(1 + 0.5*math.Sin(t))
	batch := len(y) / d
	for p := 0; p < batch; p++ {
		yp := y[p*d : (p+1)*d]
		a := af[p*d : (p+1)*d]
		ayp := ay[p*d : (p+1)*d]
		for i := 0; i < d; i++ {
			for j := 0; j < d; j++ {
				th := tanh(yp[j])
				ayp[j] += a[i] * A[i*d+j] * (1 - th*th)
				dA[i*d+j] += a[i] * th
			}
			db[i] += a[i] * ct
		}
		switch s.noise {
		case Diagonal:
			agp := ag[p*d : (p+1)*d]
			for i := 0; i < d; i++ {
				ayp[i] += agp[i] * S[i] * F(math.Cos(float64(yp[i])))
				dS[i] += agp[i] * F(math.Sin(float64(yp[i])))
				dc[i] += agp[i]
			}
		case Additive:
			agp := ag[p*d*m : (p+1)*d*m]
			for k := range agp {
				dc[k] += agp[k] * st
			}
		default:
			agp := ag[p*d*m : (p+1)*d*m]
			for i := 0; i < d; i++ {
				for j := 0; j < m; j++ {
					k := (i + j) % d
					th := tanh(yp[k])
					v := agp[i*m+j]
					ayp[k] += v * S[i*m+j] * (1 - th*th)
					dS[i*m+j] += v * th
					dc[i*m+j] += v
				}
			}
		}
	}
}

// hashMotion gives each query (s, t) an increment that is a pure function of (s, t),
// the path and the channel: replayable, with no storage at all (not a consistent
// Brownian motion across different grids; for gradient, counting and memory tests).
type hashMotion struct {
	batch, dim int
	t0, t1     float64
	seed       uint64
	queries    int
}

func (h *hashMotion) Batch() int             { return h.batch }
func (h *hashMotion) Dim() int               { return h.dim }
func (h *hashMotion) Span() (t0, t1 float64) { return h.t0, h.t1 }
func (h *hashMotion) Increment(dst []float64, s, t float64) error {
	h.queries++
	sd := math.Sqrt(t - s)
	k := mix(mix(math.Float64bits(s)^h.seed) ^ math.Float64bits(t))
	for j := range dst {
		u1 := mix(k + uint64(2*j+1))
		u2 := mix(k + uint64(2*j+2))
		a := (float64(u1>>11) + 0.5) / (1 << 53)
		b := float64(u2>>11) / (1 << 53)
		dst[j] = sd * math.Sqrt(-2*math.Log(a)) * math.Cos(2*math.Pi*b)
	}
	return nil
}

func mix(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func randVec[F Float](n int, scale float64, seed uint64) []F {
	r := rand.New(rand.NewPCG(seed, 11))
	v := make([]F, n)
	for j := range v {
		v[j] = F(scale * r.NormFloat64())
	}
	return v
}

func dot[F Float](a, b []F) float64 {
	var s float64
	for j := range a {
		s += float64(a[j]) * float64(b[j])
	}
	return s
}

// relErr is max|a−b| / max|b|.
func relErr[F Float](a, b []F) float64 {
	var num, den float64
	for j := range b {
		num = math.Max(num, math.Abs(float64(a[j])-float64(b[j])))
		den = math.Max(den, math.Abs(float64(b[j])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

func newInterval(t *testing.T, t0, t1 float64, batch, dim int, seed uint64) *brownian.Interval {
	t.Helper()
	iv, err := brownian.NewInterval(t0, t1, batch, dim, seed)
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// slope fits log err = a + slope·log dt by least squares.
func slope(dts, errs []float64) float64 {
	var sx, sy, sxx, sxy float64
	n := float64(len(dts))
	for i := range dts {
		x, y := math.Log(dts[i]), math.Log(errs[i])
		sx += x
		sy += y
		sxx += x * x
		sxy += x * y
	}
	return (n*sxy - sx*sy) / (n*sxx - sx*sx)
}
