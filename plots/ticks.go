package plots

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
)

// formatTicks labels the values of one axis alike: integers as integers ("2500", not
// "2500.00"), other values with the fewest decimals that give every value exactly
// (to a millionth of the spacing), the same number of decimals for all ("0.0", "0.5",
// "1.0"), and powers-of-ten notation ("2e6", "5e-5") for values too large or too small
// to read as plain decimals.
func formatTicks(vs []float64) []string {
	labels := make([]string, len(vs))
	if len(vs) == 0 {
		return labels
	}
	largest := 0.0
	for _, v := range vs {
		largest = max(largest, math.Abs(v))
	}
	// The tolerance within which a label must give its value: a millionth of the
	// smallest spacing, or of the largest value when there is only one.
	tol := largest
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	for i := 1; i < len(sorted); i++ {
		if d := sorted[i] - sorted[i-1]; d > 0 {
			tol = min(tol, d)
		}
	}
	tol *= 1e-6
	exact := func(format func(v float64) string) bool {
		for _, v := range vs {
			got, err := strconv.ParseFloat(format(v), 64)
			if err != nil || math.Abs(got-v) > tol {
				return false
			}
		}
		return true
	}
	var format func(v float64) string
	switch {
	case largest == 0:
		format = func(float64) string { return "0" }
	case largest >= 1e6 || largest < 1e-3:
		for digits := 0; ; digits++ {
			format = func(v float64) string { return exponent(v, digits) }
			if digits == 6 || exact(format) {
				break
			}
		}
	default:
		for decimals := 0; ; decimals++ {
			format = func(v float64) string { return strconv.FormatFloat(v, 'f', decimals, 64) }
			if decimals == 8 || exact(format) {
				break
			}
		}
	}
	for i, v := range vs {
		labels[i] = format(v)
		if strings.Trim(labels[i], "-0.") == "" {
			labels[i] = strings.TrimPrefix(labels[i], "-") // no "-0.0" from rounding
		}
	}
	return labels
}

// formatNumber labels one value on its own (a log axis's 1, 2 and 5 times powers of
// ten): plain decimals from 0.001 to a million, powers-of-ten notation beyond.
func formatNumber(v float64) string {
	// Six significant digits drop the float noise of m·10^e (5·1e-6 is
	// 4.9999999999999996e-06).
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 6, 64), 64)
	if a := math.Abs(r); a != 0 && (a >= 1e6 || a < 1e-3) {
		return exponent(r, -1)
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// exponent writes v as mantissa e exponent, "2.5e6" and "1e-5" rather than strconv's
// "2.5e+06"; digits is the number of decimals of the mantissa (−1: as few as exact).
func exponent(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'e', digits, 64)
	m, e, _ := strings.Cut(s, "e")
	sign := ""
	if e[0] == '-' {
		sign = "-"
	}
	e = strings.TrimLeft(e[1:], "0")
	if e == "" {
		return m
	}
	return m + "e" + sign + e
}

// plainTicks labels about four ticks at multiples of 1, 2 or 5 times a power of ten,
// with formatTicks, and puts unlabelled ticks between them.
type plainTicks struct{}

func (plainTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: formatNumber(lo)}}
	}
	step, minor := tickStep(hi - lo)
	var major []float64
	for k := math.Ceil(lo / step); k*step <= hi+step*1e-9; k++ {
		major = append(major, k*step)
	}
	labels := formatTicks(major)
	var ticks []plot.Tick
	for i, v := range major {
		ticks = append(ticks, plot.Tick{Value: v, Label: labels[i]})
	}
	for k := math.Ceil(lo / minor); k*minor <= hi; k++ {
		if v := k * minor; math.Abs(math.Remainder(v, step)) > minor/2 {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}

// tickStep is the spacing of labelled ticks over span, 1, 2 or 5 times a power of
// ten, the one that gives closest to four intervals; and the spacing of the unlabelled
// ones between.
func tickStep(span float64) (step, minor float64) {
	best := math.Inf(1)
	top := math.Floor(math.Log10(span))
	for e := top - 2; e <= top; e++ {
		for _, m := range []float64{1, 2, 5} {
			s := m * math.Pow(10, e)
			if d := math.Abs(span/s - 4); d < best {
				best, step, minor = d, s, s/5
				if m == 2 {
					minor = s / 4
				}
			}
		}
	}
	return step, minor
}

// scale is how a curve's values are laid along its axis.
type scale struct {
	kind scaleKind
	// linear is the half-width of the symmetric log scale's linear part, a power of ten.
	linear float64
}

type scaleKind int

const (
	linearScale scaleKind = iota
	logScale
	symLogScale
)

// logSpan is the ratio between the largest and the smallest magnitude of a curve's
// values from which its axis is logarithmic: at two decades or more, a linear axis
// squeezes all but the largest values into its bottom few pixels.
const logSpan = 100

// chooseScale picks the axis for a curve from its finite values: logarithmic when
// they are all positive and span logSpan or more (a loss falling over decades, a
// reconstruction error, seconds per step with a slow first step); for values of both
// signs or zeros spanning as much (a Wasserstein estimate or an unbiased MMD² that
// starts large and settles near zero), a symmetric log scale, linear within ±c and
// logarithmic beyond, c being the power of ten at or below the median magnitude, so
// that the values training settles to stay readable beside the first steps'; linear
// otherwise.
func chooseScale(vs []float64) scale {
	var mags []float64
	positive := true
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		positive = positive && v > 0
		if v != 0 {
			mags = append(mags, math.Abs(v))
		}
	}
	if len(mags) < 2 {
		return scale{kind: linearScale}
	}
	slices.Sort(mags)
	lo, hi := mags[0], mags[len(mags)-1]
	if positive {
		if hi/lo >= logSpan {
			return scale{kind: logScale}
		}
		return scale{kind: linearScale}
	}
	median := mags[len(mags)/2]
	if hi/median < logSpan {
		return scale{kind: linearScale}
	}
	return scale{kind: symLogScale, linear: math.Pow(10, math.Floor(math.Log10(median)))}
}

// symLog is a symmetric logarithmic axis: x ↦ sign(x)·log10(1 + |x|/c), linear near
// zero (within ±c) and logarithmic beyond, so that it shows values of both signs that
// span decades. It is both the axis's Normalizer and its Ticker.
type symLog struct{ c float64 }

func (s symLog) f(x float64) float64 { return math.Copysign(math.Log10(1+math.Abs(x)/s.c), x) }

func (s symLog) Normalize(lo, hi, x float64) float64 {
	a, b := s.f(lo), s.f(hi)
	return (s.f(x) - a) / (b - a)
}

// Ticks labels 0 and ±c·10^k, with unlabelled ticks at the multiples 2…9 between.
func (s symLog) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	add := func(v float64, label bool) {
		if v < lo || v > hi {
			return
		}
		t := plot.Tick{Value: v}
		if label {
			t.Label = formatNumber(v)
		}
		ticks = append(ticks, t)
	}
	add(0, true)
	top := math.Max(math.Abs(lo), math.Abs(hi))
	for base := s.c; base <= top*1.0001; base *= 10 {
		for m := 1.0; m < 10; m++ {
			v := m * base
			add(v, m == 1)
			add(-v, m == 1)
		}
	}
	slices.SortFunc(ticks, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
	return ticks
}
