// Package dataset holds the time series that gosde's models train on and are evaluated
// against: a batch of paths observed at shared times, with missing readings, and the
// normalisation that maps them to and from the data's own units.
//
// Sources: OU, the SDE-GAN's time-dependent Ornstein–Uhlenbeck set (docs/DESIGN.md,
// "The OU data set"),
// simulated exactly; AirQuality, the Beijing multi-site air-quality data cut into
// daily windows; ReadCSV / LoadCSV, the user's own series in long or wide CSV; WriteCSV
// writes paths (samples, say) back as long CSV.
//
// Preparation, in the order training uses it: Split the paths (or take AirQuality's
// train/test), FillLinear the missing readings (the linearly interpolated control
// path; no series is ever dropped), Fit a Normalization on the training part and Apply
// it to every part, Invert it on generated samples; a Sampler draws the minibatches,
// or MinibatchIndices draws a step's batch from that step's own seed.
// Times stay in the data's own units throughout; Paths.ScaledTimes maps them to
// [0, T−1] for a solver that wants unit steps.
package dataset

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Paths is a batch of N paths of C channels observed at the T shared Times. Values is
// path-major: Values[(n*T+t)*C+c]; a missing reading is NaN.
type Paths struct {
	Times    []float64
	Channels []string
	N        int
	Values   []float64
}

// T is the number of observation times.
func (p *Paths) T() int { return len(p.Times) }

// C is the number of channels.
func (p *Paths) C() int { return len(p.Channels) }

// At is the value of path n at time index t in channel c (NaN if missing).
func (p *Paths) At(n, t, c int) float64 { return p.Values[(n*len(p.Times)+t)*len(p.Channels)+c] }

// Path returns path n's T×C values, a view into Values.
func (p *Paths) Path(n int) []float64 {
	w := len(p.Times) * len(p.Channels)
	return p.Values[n*w : (n+1)*w]
}

// Validate reports whether p is well formed: at least one time, finite and strictly
// increasing Times, at least one channel, unique non-empty channel names, N ≥ 0 and
// len(Values) = N·T·C.
func (p *Paths) Validate() error {
	if p == nil {
		return errors.New("dataset: nil Paths")
	}
	if len(p.Times) == 0 {
		return errors.New("dataset: no observation times")
	}
	for i, t := range p.Times {
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return fmt.Errorf("dataset: time %d is %v, not finite", i, t)
		}
		if i > 0 && !(t > p.Times[i-1]) {
			return fmt.Errorf("dataset: times not strictly increasing at index %d (%v after %v)", i, t, p.Times[i-1])
		}
	}
	if len(p.Channels) == 0 {
		return errors.New("dataset: no channels")
	}
	seen := make(map[string]bool, len(p.Channels))
	for _, c := range p.Channels {
		if c == "" {
			return errors.New("dataset: empty channel name")
		}
		if seen[c] {
			return fmt.Errorf("dataset: duplicate channel name %q", c)
		}
		seen[c] = true
	}
	if p.N < 0 {
		return fmt.Errorf("dataset: negative number of paths %d", p.N)
	}
	if want := p.N * len(p.Times) * len(p.Channels); len(p.Values) != want {
		return fmt.Errorf("dataset: %d values, want N·T·C = %d·%d·%d = %d", len(p.Values), p.N, len(p.Times), len(p.Channels), want)
	}
	return nil
}

// Clone returns a deep copy of p.
func (p *Paths) Clone() *Paths {
	return &Paths{
		Times:    slices.Clone(p.Times),
		Channels: slices.Clone(p.Channels),
		N:        p.N,
		Values:   slices.Clone(p.Values),
	}
}

// ScaledTimes returns the Times mapped affinely onto [0, T−1] (first time to 0, last
// to T−1), a fresh slice; Times itself stays in the data's own units. A solver that
// wants unit steps on a uniform grid uses these: on a uniform grid they are exactly
// 0, 1, …, T−1 (the OU and air-quality sets already have Times 0…T−1, so for them
// it is the identity). With a single time it returns [0].
func (p *Paths) ScaledTimes() []float64 {
	T := len(p.Times)
	out := make([]float64, T)
	if T < 2 {
		return out
	}
	t0, span := p.Times[0], p.Times[T-1]-p.Times[0]
	for i, t := range p.Times {
		out[i] = (t - t0) / span * float64(T-1)
	}
	out[T-1] = float64(T - 1)
	return out
}

// Fits reports whether p can be fed to a model made for the given observation times and
// number of channels: at least one path, the same channels and times (to a relative
// 1e-9), and a Values slice of the right length.
func (p *Paths) Fits(times []float64, channels int) error {
	if p == nil || p.N < 1 {
		return errors.New("no paths")
	}
	if p.C() != channels {
		return fmt.Errorf("data has %d channels, the model %d", p.C(), channels)
	}
	if p.T() != len(times) {
		return fmt.Errorf("data has %d times, the model %d", p.T(), len(times))
	}
	for i, t := range p.Times {
		if math.Abs(t-times[i]) > 1e-9*math.Max(1, math.Abs(t)) {
			return fmt.Errorf("data time %d is %v, the model's %v", i, t, times[i])
		}
	}
	if len(p.Values) != p.N*p.T()*p.C() {
		return fmt.Errorf("data has %d values, want N×T×C = %d", len(p.Values), p.N*p.T()*p.C())
	}
	return nil
}
