// Package dataset holds the time series that gosde's models train on and are evaluated
// against: a batch of paths observed at shared times, with missing readings, and the
// normalisation that maps them to and from the data's own units.
//
// Sources: OU, the SDE-GAN's time-dependent Ornstein–Uhlenbeck set (docs/DESIGN.md,
// "The OU data set"),
// simulated exactly; AirQuality, the Beijing multi-site air-quality data cut into
// daily windows; ReadCSV / LoadCSV, the user's own series in long or wide CSV, with
// any separator, dates as times, with or without a header, whole or cut into windows
// (ReadCSVData also says where each window lies in its series, for SplitBlocks); WriteCSV
// writes paths (samples, say) back as long CSV.
//
// Preparation, in the order training uses it: Split the paths (SplitBlocks, by time,
// for windows cut from longer series; or take AirQuality's train/test), FillLinear the missing readings (the linearly interpolated control
// path; no series is ever dropped), Fit a Normalization on the training part and Apply
// it to every part, Invert it on generated samples; a Sampler draws the minibatches,
// or MinibatchIndices draws a step's batch from that step's own seed.
// Times stay in the data's own units in Paths; a TimeMap (TimeMapOf, Paths.ScaledTimes)
// maps them to [0, T−1], the unit a model sees, and back.
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
// to T−1) by TimeMapOf(Times), a fresh slice; Times itself stays in the data's own
// units. On a uniform grid they are exactly 0, 1, …, T−1 (the OU and air-quality sets
// already have Times 0…T−1, so for them it is the identity). With a single time it
// returns [0].
func (p *Paths) ScaledTimes() []float64 {
	return TimeMapOf(p.Times).ToModel(p.Times)
}

// TimeMap is the affine map between the data's own time unit and the unit a model
// sees: data time = Offset + Scale·(model time / Step). Scale is the data's time per
// step of its grid, Step the model's (1: unit steps). It keeps a model independent of
// the unit the data's times were written in (months, years, seconds).
type TimeMap struct {
	Offset float64 `json:"offset"`
	Scale  float64 `json:"scale"`
	Step   float64 `json:"step"`
}

// IdentityTimeMap leaves times as they are.
var IdentityTimeMap = TimeMap{Offset: 0, Scale: 1, Step: 1}

// TimeMapOf is the map that takes times (strictly increasing) onto [0, T−1]: the first
// to 0, the last to T−1, so that a uniform grid has unit steps. With fewer than two
// times it only shifts the first to 0.
func TimeMapOf(times []float64) TimeMap {
	return TimeMapOnto(times, float64(len(times)-1))
}

// TimeMapOnto is the map that takes times (strictly increasing) onto [0, horizon]
// (horizon > 0): the first to 0, the last to horizon (to rounding). With fewer than two times it only
// shifts the first to 0.
func TimeMapOnto(times []float64, horizon float64) TimeMap {
	T := len(times)
	switch T {
	case 0:
		return IdentityTimeMap
	case 1:
		return TimeMap{Offset: times[0], Scale: 1, Step: 1}
	}
	steps := float64(T - 1)
	return TimeMap{Offset: times[0], Scale: (times[T-1] - times[0]) / steps, Step: horizon / steps}
}

// snapTolerance is how close to a whole number of grid steps a time must be to become
// it: a millionth of a step. The decimal digits of a CSV's times are rounded (a tenth
// of a year written 0.1, a month 0.0833333), and without it the same grid written in
// months and in years would give the model times differing in the last digits, so not
// quite the same model, and a spacing a hair under the step that splits every other
// interval into two solver steps.
const snapTolerance = 1e-6

// ToModel maps times in the data's unit to the model's, in a fresh slice: a time within
// a millionth of a step of the grid's k-th step is exactly k·Step, so a uniform grid
// gives the same model times in every unit.
func (m TimeMap) ToModel(times []float64) []float64 {
	out := make([]float64, len(times))
	for i, t := range times {
		v := (t - m.Offset) / m.Scale
		if r := math.Round(v); math.Abs(v-r) <= snapTolerance {
			v = r
		}
		out[i] = v * m.Step
	}
	return out
}

// ToData maps times in the model's unit back to the data's, in a fresh slice.
func (m TimeMap) ToData(times []float64) []float64 {
	out := make([]float64, len(times))
	for i, t := range times {
		out[i] = m.Offset + m.Scale*(t/m.Step)
	}
	return out
}

// Check reports a map that cannot be inverted or is not finite.
func (m TimeMap) Check() error {
	ok := func(x float64) bool { return x > 0 && !math.IsInf(x, 0) }
	if math.IsNaN(m.Offset) || math.IsInf(m.Offset, 0) || !ok(m.Scale) || !ok(m.Step) {
		return fmt.Errorf("dataset: time map offset %v, scale %v, step %v: want a finite offset and finite scale and step > 0", m.Offset, m.Scale, m.Step)
	}
	return nil
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
