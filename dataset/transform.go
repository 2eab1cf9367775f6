package dataset

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Transform is a change of variable of one channel, applied before the normalisation
// and inverted after it, so that a model works on a scale where the channel is
// unbounded and generated values map back into the channel's range. The one kind is
// "log": x ↦ log(x + Offset), inverted by y ↦ exp(y) − Offset, for a positive or
// heavy-tailed channel (prices, volumes, concentrations); generated values are then
// never below −Offset (above it but where exp underflows). Offset 0 is the plain logarithm; a channel with zero readings
// (a concentration of 0) needs an Offset > 0, say its smallest step of measurement.
type Transform struct {
	Kind    string  `json:"kind"`
	Channel string  `json:"channel"`
	Offset  float64 `json:"offset,omitempty"`
}

// TransformKinds are the kinds a Transform may have.
var TransformKinds = []string{"log"}

// Transforms are the transforms of a data set's channels, at most one per channel.
type Transforms []Transform

// ParseLog reads the command line's list of log-transformed channels: each item is a
// channel name, for log(x), or NAME=OFFSET, for log(x + OFFSET) (OFFSET ≥ 0).
func ParseLog(items []string) (Transforms, error) {
	var ts Transforms
	for _, it := range items {
		name, off, hasOff := strings.Cut(it, "=")
		tr := Transform{Kind: "log", Channel: strings.TrimSpace(name)}
		if hasOff {
			v, err := strconv.ParseFloat(strings.TrimSpace(off), 64)
			if err != nil || !(v >= 0) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("--log %q: the offset after = must be a finite number ≥ 0 (log(%s + offset)), got %q", it, tr.Channel, off)
			}
			tr.Offset = v
		}
		if tr.Channel == "" {
			return nil, fmt.Errorf("--log %q: no channel name; give NAME or NAME=OFFSET, separated by commas", it)
		}
		ts = append(ts, tr)
	}
	return ts, ts.Check(nil)
}

// Check reports a malformed transform and a channel transformed twice and, unless
// channels is nil, a transform of a channel not among channels.
func (ts Transforms) Check(channels []string) error {
	seen := map[string]bool{}
	for _, tr := range ts {
		switch {
		case !slices.Contains(TransformKinds, tr.Kind):
			return fmt.Errorf("unknown transform %q of channel %q: the kinds are %v", tr.Kind, tr.Channel, TransformKinds)
		case !(tr.Offset >= 0) || math.IsInf(tr.Offset, 0):
			return fmt.Errorf("transform of channel %q: offset %v, want a finite number ≥ 0", tr.Channel, tr.Offset)
		case seen[tr.Channel]:
			return fmt.Errorf("channel %q is transformed twice: name it once in --log", tr.Channel)
		case channels != nil && !slices.Contains(channels, tr.Channel):
			return fmt.Errorf("--log names channel %q, which the data does not have: the channels are %s", tr.Channel, strings.Join(channels, ", "))
		}
		seen[tr.Channel] = true
	}
	return nil
}

// index is the channel index of each transform in p, after Check.
func (ts Transforms) index(p *Paths) ([]int, error) {
	channels := p.Channels
	if channels == nil {
		channels = []string{} // every name is then unknown
	}
	if err := ts.Check(channels); err != nil {
		return nil, err
	}
	idx := make([]int, len(ts))
	for i, tr := range ts {
		idx[i] = slices.Index(p.Channels, tr.Channel)
	}
	return idx, nil
}

// Apply transforms p's values in place (NaN stays NaN). A reading that the transform
// cannot take (for log, one at or below −Offset) is an error naming the channel, the
// reading and its time, and p is then left unchanged; so is a channel p does not have.
func (ts Transforms) Apply(p *Paths) error {
	idx, err := ts.index(p)
	if err != nil {
		return err
	}
	T, C := p.T(), p.C()
	for i, tr := range ts {
		c := idx[i]
		for n := 0; n < p.N; n++ {
			for t := 0; t < T; t++ {
				if v := p.Values[(n*T+t)*C+c]; v+tr.Offset <= 0 {
					return refusal(tr, v, p.Times[t])
				}
			}
		}
	}
	for i, tr := range ts {
		c := idx[i]
		for j := c; j < len(p.Values); j += C {
			p.Values[j] = math.Log(p.Values[j] + tr.Offset)
		}
	}
	return nil
}

func refusal(tr Transform, v, t float64) error {
	if tr.Offset == 0 {
		return fmt.Errorf("channel %q has the reading %v (at time %v), which has no logarithm: "+
			"give the channel an offset, --log %s=OFFSET, to take log(%s + OFFSET) with OFFSET > %v "+
			"(for a zero reading, e.g. the channel's smallest step of measurement), or leave %s out of --log",
			tr.Channel, v, t, tr.Channel, tr.Channel, 0-v, tr.Channel)
	}
	return fmt.Errorf("channel %q has the reading %v (at time %v), at or below −%v, so log(%s + %v) is undefined: "+
		"give a larger offset, --log %s=OFFSET with OFFSET > %v, or leave %s out of --log",
		tr.Channel, v, t, tr.Offset, tr.Channel, tr.Offset, tr.Channel, 0-v, tr.Channel)
}

// Invert maps p's values back to the data's own units in place (the inverse of Apply;
// NaN stays NaN). It returns an error, leaving p unchanged, if p lacks a transformed
// channel.
func (ts Transforms) Invert(p *Paths) error {
	idx, err := ts.index(p)
	if err != nil {
		return err
	}
	C := p.C()
	for i, tr := range ts {
		for j := idx[i]; j < len(p.Values); j += C {
			p.Values[j] = math.Exp(p.Values[j]) - tr.Offset
		}
	}
	return nil
}

// String is the command line's spelling of ts: NAME or NAME=OFFSET, comma-separated.
func (ts Transforms) String() string {
	s := make([]string, len(ts))
	for i, tr := range ts {
		s[i] = tr.Channel
		if tr.Offset != 0 {
			s[i] += "=" + strconv.FormatFloat(tr.Offset, 'g', -1, 64)
		}
	}
	return strings.Join(s, ",")
}
