package nn

import (
	"fmt"
	"math"

	"github.com/gosde/gosde/internal/enumjson"
)

// Float is the element type of parameters and activations. It is identical to
// solver.Float, so that nn does not depend on the solver package.
type Float interface{ ~float32 | ~float64 }

// Activation is an elementwise nonlinearity. The zero value is LipSwish, the activation
// of the SDE-GAN vector fields.
type Activation int

const (
	// LipSwish is 0.909·x·sigmoid(x), 1-Lipschitz (Chen et al. 2019).
	LipSwish Activation = iota
	// Tanh is the hyperbolic tangent.
	Tanh
	// Softplus is log(1 + eˣ).
	Softplus
	// Sigmoid is 1/(1 + e⁻ˣ).
	Sigmoid
	// ReLU is max(x, 0), with derivative 0 at 0 (PyTorch's convention).
	ReLU
	// Identity is x.
	Identity
)

// LipSwishScale is the constant of LipSwish(x) = LipSwishScale·x·sigmoid(x), as in torchsde.
const LipSwishScale = 0.909

var activationNames = [...]string{"lipswish", "tanh", "softplus", "sigmoid", "relu", "identity"}

func (a Activation) String() string {
	if a >= 0 && int(a) < len(activationNames) {
		return activationNames[a]
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// Valid reports whether a is one of the defined activations.
func (a Activation) Valid() bool { return a >= 0 && int(a) < len(activationNames) }

// MarshalText writes the activation by name (in JSON configurations).
func (a Activation) MarshalText() ([]byte, error) {
	if !a.Valid() {
		return nil, fmt.Errorf("nn: unknown %v", a)
	}
	return []byte(a.String()), nil
}

// UnmarshalJSON reads an activation by name, or by number as older configurations
// wrote it.
func (a *Activation) UnmarshalJSON(b []byte) error {
	i, err := enumjson.Decode(b, "activation", activationNames[:])
	if err == nil {
		*a = Activation(i)
	}
	return err
}

// ParseActivation returns the activation named s (as printed by String).
func ParseActivation(s string) (Activation, error) {
	for i, n := range activationNames {
		if n == s {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("nn: unknown activation %q", s)
}

// Eval64 returns the activation and its derivative at x, in float64, computed with the
// math package (exact to a few ulp).
func (a Activation) Eval64(x float64) (y, dy float64) {
	switch a {
	case LipSwish:
		s := sigmoid64(x)
		y = LipSwishScale * x * s
		return y, y + s*(LipSwishScale-y)
	case Tanh:
		y = math.Tanh(x)
		return y, 1 - y*y
	case Softplus:
		return math.Max(x, 0) + math.Log1p(math.Exp(-math.Abs(x))), sigmoid64(x)
	case Sigmoid:
		s := sigmoid64(x)
		return s, s * (1 - s)
	case ReLU:
		if x > 0 {
			return x, 1
		}
		if x != x {
			return x, x
		}
		return 0, 0
	}
	return x, 1
}

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Eval32 returns the activation and its derivative at x with the fast float32
// approximations used by the float32 engine (see the package documentation for their
// accuracy). The assembly kernels evaluate the same formulas eight lanes at a time.
func (a Activation) Eval32(x float32) (y, dy float32) {
	switch a {
	case LipSwish:
		// With e = e^(−x) and s = 1/(1+e): 1−s = e·s, so the derivative
		// c·s·(1 + x(1−s)) = s·(c + h·e), free of the cancellation of h + s(c−h).
		if x != x {
			return x, x
		}
		e := expNeg32(x)
		s := 1 / (1 + e)
		y = (LipSwishScale * x) * s
		return y, s * (y*e + LipSwishScale)
	case Tanh:
		y = tanh32(x)
		return y, 1 - y*y
	case Softplus:
		// Not vectorised: softplus is not on any hot path of this project.
		ax := x
		if ax < 0 {
			ax = -ax
		}
		e := expNeg32(ax)
		y = float32(math.Log1p(float64(e)))
		if x > 0 {
			y += x
		}
		return y, sigmoid32(x)
	case Sigmoid:
		s := sigmoid32(x)
		return s, s - s*s
	case ReLU:
		if x > 0 {
			return x, 1
		}
		if x != x {
			return x, x
		}
		return 0, 0
	}
	return x, 1
}

// Fast float32 exp(−x) constants (XNNPACK rr2_p5 coefficients, odd ones negated
// because the polynomial is evaluated at −r).
const (
	expMagic  = float32(0x1.8000FEp23) // 1.5·2²³ + 127: rounds to an integer and holds 127+n in the low bits
	expNLog2e = float32(-0x1.715476p0)
	expLn2Hi  = float32(0x1.62E400p-1)
	expLn2Lo  = float32(0x1.7F7D1Cp-20)
	expC5     = float32(-0x1.0F9F9Cp-7)
	expC4     = float32(0x1.573A1Ap-5)
	expC3     = float32(-0x1.555A80p-3)
	expC2     = float32(0x1.FFFDC6p-2)
	expC1     = float32(-0x1.FFFFF6p-1)
	sigLo     = float32(-88)
	sigHi     = float32(87)
	tanhClamp = float32(7.90531110763549805)
)

// expNeg32 is e^(−x) for x clamped to [−88, 87], the same algorithm as the assembly.
func expNeg32(x float32) float32 {
	if x < sigLo {
		x = sigLo
	} else if x > sigHi {
		x = sigHi
	}
	t := x*expNLog2e + expMagic
	s := math.Float32frombits(math.Float32bits(t) << 23)
	n := t - expMagic
	r := x + n*expLn2Hi
	r += n * expLn2Lo
	p := expC5*r + expC4
	p = p*r + expC3
	p = p*r + expC2
	p = p*r + expC1
	rs := r * s
	return s + rs*p
}

func sigmoid32(x float32) float32 {
	if x != x {
		return x
	}
	return 1 / (1 + expNeg32(x))
}

func tanh32(x float32) float32 {
	if x != x {
		return x
	}
	if x > tanhClamp {
		x = tanhClamp
	} else if x < -tanhClamp {
		x = -tanhClamp
	}
	x2 := x * x
	p := float32(-2.76076847742355e-16)*x2 + 2.00018790482477e-13
	p = p*x2 + -8.60467152213735e-11
	p = p*x2 + 5.12229709037114e-08
	p = p*x2 + 1.48572235717979e-05
	p = p*x2 + 6.37261928875436e-04
	p = p*x2 + 4.89352455891786e-03
	p *= x
	q := float32(1.19825839466702e-06)*x2 + 1.18534705686654e-04
	q = q*x2 + 2.26843463243900e-03
	q = q*x2 + 4.89352518554385e-03
	return p / q
}

// Apply writes act(z) into z and, when d is not nil, the derivative act'(z) into d, for
// n elements, using the engine's formulas for F (fast float32 or exact float64).
func Apply[F Float](a Activation, z, d []F) {
	if d != nil && len(d) < len(z) {
		panic("nn: Apply: derivative slice too short")
	}
	applyAct(a, z, d)
}
