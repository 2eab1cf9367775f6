package dataset

import (
	"fmt"
	"math"
	"slices"
)

// readingSpan is the index range [first, last] of a series' rows that have at least
// one reading; ok is false when none has.
func readingSpan(s csvSeries, C int) (first, last int, ok bool) {
	has := func(i int) bool {
		return slices.ContainsFunc(s.vals[i*C:(i+1)*C], func(v float64) bool { return !math.IsNaN(v) })
	}
	first, last = 0, len(s.times)-1
	for first <= last && !has(first) {
		first++
	}
	for last >= first && !has(last) {
		last--
	}
	return first, last, first <= last
}

func seriesName(id string) string {
	if id == "" {
		return "the series"
	}
	return "series " + quote(id)
}

// shareGrid puts whole series on the union of their times, or, when they lie in
// (nearly) disjoint stretches of time, aligns them at their starts or refuses them.
func shareGrid(d *CSVData, series []csvSeries, channels []string) error {
	C := len(channels)
	var times []float64
	for _, s := range series {
		times = append(times, s.times...)
	}
	slices.Sort(times)
	times = slices.Compact(times) // -0 and +0 compare equal
	T, N := len(times), len(series)
	if T < 2 {
		return fmt.Errorf("dataset: csv: %d distinct time(s); need at least two", T)
	}

	// Each series' share of the shared grid, between its first and last own time.
	var cover float64
	counted := 0
	for _, s := range series {
		a, b := s.own[0], s.own[1]
		if a > b {
			continue
		}
		i, _ := slices.BinarySearch(times, s.times[a])
		j, _ := slices.BinarySearch(times, s.times[b])
		cover += float64(j-i+1) / float64(T)
		counted++
	}
	if counted > 1 && cover/float64(counted) <= 0.5 {
		return alignSeries(d, series, channels, T, cover/float64(counted))
	}

	if float64(N)*float64(T)*float64(C) > maxCSVValues {
		return fmt.Errorf("dataset: csv: %d series × %d distinct times × %d channels exceeds %d values", N, T, C, maxCSVValues)
	}
	p := &Paths{Times: times, Channels: channels, N: N, Values: make([]float64, N*T*C)}
	for i := range p.Values {
		p.Values[i] = math.NaN()
	}
	for n, s := range series {
		for r, t := range s.times {
			k, _ := slices.BinarySearch(times, t)
			copy(p.Values[(n*T+k)*C:(n*T+k+1)*C], s.vals[r*C:(r+1)*C])
		}
	}
	d.Paths = p
	return nil
}

// alignSeries shifts series in disjoint stretches of time to start at 0 when they all
// have the same number of times, laid out alike; otherwise it says how to lay the
// file out.
func alignSeries(d *CSVData, series []csvSeries, channels []string, T int, cover float64) error {
	C := len(channels)
	refuse := func(why string) error {
		return fmt.Errorf("dataset: csv: the %d series lie in (nearly) disjoint stretches of time: together they have %d distinct times "+
			"and each spans %.0f%% of them on average, so most of every path would be made up (held constant beyond the series' ends). "+
			"Lay the file out with each series' times relative to its own start (0, 1, 2, …), or give one long series and cut it "+
			"into windows with --window N. (They cannot be aligned automatically: %s.)", len(series), T, 100*cover, why)
	}
	type span struct{ a, b int }
	spans := make([]span, len(series))
	ref := -1
	for n, s := range series {
		a, b := s.own[0], s.own[1]
		if a > b {
			return refuse(fmt.Sprintf("%s has no reading", seriesName(s.id)))
		}
		spans[n] = span{a, b}
		if ref < 0 {
			ref = n
			continue
		}
		r := series[ref]
		L, Lr := b-a+1, spans[ref].b-spans[ref].a+1
		if L != Lr {
			return refuse(fmt.Sprintf("%s has %d times and %s %d", seriesName(r.id), Lr, seriesName(s.id), L))
		}
		h := (r.times[spans[ref].b] - r.times[spans[ref].a]) / float64(max(L-1, 1))
		for i := 0; i < L; i++ {
			if math.Abs((s.times[a+i]-s.times[a])-(r.times[spans[ref].a+i]-r.times[spans[ref].a])) > 1e-6*h {
				return refuse(fmt.Sprintf("%s is spaced differently from %s (line %d)", seriesName(s.id), seriesName(r.id), s.lines[a+i]))
			}
		}
	}
	r, sp := series[ref], spans[ref]
	L := sp.b - sp.a + 1
	if L < 2 {
		return refuse("each has a single time")
	}
	N := len(series)
	if float64(N)*float64(L)*float64(C) > maxCSVValues {
		return fmt.Errorf("dataset: csv: %d series × %d times × %d channels exceeds %d values", N, L, C, maxCSVValues)
	}
	p := &Paths{Times: make([]float64, L), Channels: channels, N: N, Values: make([]float64, N*L*C)}
	for i := range p.Times {
		p.Times[i] = r.times[sp.a+i] - r.times[sp.a]
	}
	d.Origins = make([]Origin, N)
	for n, s := range series {
		a, b := spans[n].a, spans[n].b
		copy(p.Values[n*L*C:(n+1)*L*C], s.vals[a*C:(b+1)*C])
		// One timeline: whatever the ids, these are stretches of time, and a split
		// must keep the held-out ones after the rest.
		d.Origins[n] = Origin{Start: s.times[a], End: s.times[b]}
	}
	d.Paths = p
	d.Notes = append(d.Notes, fmt.Sprintf("aligned: the %d series lie in (nearly) disjoint stretches of time (%d distinct times in all, "+
		"each spanning %.0f%% of them on average) and all have %d times laid out alike, so each series' times were taken "+
		"relative to its own start: they share the grid %v … %v", N, T, 100*cover, L, p.Times[0], p.Times[L-1]))
	return nil
}

// cutWindows cuts every series into windows of W points, S points apart, each on the
// grid 0, h, …, (W−1)h of the series' common spacing h.
func cutWindows(d *CSVData, series []csvSeries, channels []string, W, S int, tp *timeParser) error {
	C := len(channels)
	type piece struct {
		s, a int // series, first row
	}
	var pieces []piece
	var diffs []float64
	longest, short := 0, 0
	for n, s := range series {
		a, b, ok := readingSpan(s, C)
		if !ok {
			continue
		}
		L := b - a + 1
		longest = max(longest, L)
		if L < W {
			short++
			continue
		}
		// The steps inside windows (those between windows do not matter).
		inside := make([]bool, L)
		for k := a; k+W-1 <= b; k += S {
			pieces = append(pieces, piece{n, k})
			for j := k; j < k+W-1; j++ {
				inside[j-a] = true
			}
		}
		for j, in := range inside {
			if in {
				diffs = append(diffs, s.times[a+j+1]-s.times[a+j])
			}
		}
	}
	if len(pieces) == 0 {
		return fmt.Errorf("dataset: csv: --window %d: no series has that many points with readings (the longest has %d); give a smaller --window", W, longest)
	}
	// Every step inside a window is checked against the median, so that one gap is
	// reported as the gap it is.
	h := median(diffs)
	hint, unit := "", ""
	if tp.dates {
		unit = " (days)"
	}
	if !tp.dates {
		hint = " (if the times are dates written as numbers, such as 20120131, give their layout with --time-format, e.g. %Y%m%d)"
	}
	for _, pc := range pieces {
		s := series[pc.s]
		for j := pc.a; j < pc.a+W-1; j++ {
			if dt := s.times[j+1] - s.times[j]; math.Abs(dt-h) > 1e-3*h {
				return fmt.Errorf("dataset: csv: --window needs equally spaced times, but %s steps from %s to %s (lines %d and %d), "+
					"%v apart where the spacing is %v%s: add a row with empty values at each missing time (missing readings are "+
					"interpolated) or remove the extra row%s", seriesName(s.id), tp.show(s.times[j]), tp.show(s.times[j+1]),
					s.lines[j], s.lines[j+1], dt, h, unit, hint)
			}
		}
	}
	N := len(pieces)
	if float64(N)*float64(W)*float64(C) > maxCSVValues {
		return fmt.Errorf("dataset: csv: %d windows × %d points × %d channels exceeds %d values; give a larger --stride", N, W, C, maxCSVValues)
	}
	p := &Paths{Times: make([]float64, W), Channels: channels, N: N, Values: make([]float64, N*W*C)}
	for i := range p.Times {
		p.Times[i] = float64(i) * h
	}
	d.Origins = make([]Origin, N)
	for n, pc := range pieces {
		s := series[pc.s]
		copy(p.Values[n*W*C:(n+1)*W*C], s.vals[pc.a*C:(pc.a+W)*C])
		d.Origins[n] = Origin{Series: s.id, Start: s.times[pc.a], End: s.times[pc.a+W-1]}
	}
	d.Paths = p
	note := fmt.Sprintf("windows: %d of %d points, %d apart, from %d series; times relative to each window's start, spacing %v",
		N, W, S, len(series)-short, h)
	if short > 0 {
		note += fmt.Sprintf(" (%d series shorter than --window %d left out)", short, W)
	}
	d.Notes = append(d.Notes, note)
	return nil
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	y := slices.Clone(x)
	slices.Sort(y)
	return y[len(y)/2]
}
