// Package dataset holds the time series that gosde's models train on and are evaluated
// against: a batch of paths observed at shared times, with missing readings, and the
// normalisation that maps them to and from the data's own units.
package dataset

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
