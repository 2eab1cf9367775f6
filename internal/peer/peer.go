// Package peer writes the cases that make peer-check holds torchsde to: for each, the
// inputs gosde was given (weights under torch's names, initial states, the Brownian or
// control increments of every step) and what gosde computed from them (outputs,
// gradients), one JSON file per case, read by scripts/peer_check.py. It also holds the
// Brownian motion that feeds both libraries the same stored increments.
//
// JSON keeps the check readable without numpy's file formats on either side; every
// value is written as the float64 it is (a float32 widened exactly), so Python reads
// back the very bits gosde used.
package peer

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/checkpoint"
)

// Array is one named array of a case: its shape and its values, row-major.
type Array struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

// Case is one comparison: Kind says what the Python side runs ("sde", "gan",
// "export"), Float the precision both sides compute in ("float64" or "float32"), Meta
// the settings (method, noise type, sizes, step), Arrays the inputs and gosde's results.
type Case struct {
	Name   string           `json:"name"`
	Kind   string           `json:"kind"`
	Float  string           `json:"float"`
	Meta   map[string]any   `json:"meta"`
	Arrays map[string]Array `json:"arrays"`
}

// NewCase returns an empty case whose precision is that of F.
func NewCase[F float32 | float64](name, kind string) *Case {
	fl := "float64"
	if _, ok := any(F(0)).(float32); ok {
		fl = "float32"
	}
	return &Case{Name: name, Kind: kind, Float: fl, Meta: map[string]any{}, Arrays: map[string]Array{}}
}

// Add stores data under name with shape (whose product must be len(data)).
func Add[F float32 | float64](c *Case, name string, shape []int, data []F) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if n != len(data) {
		panic(fmt.Sprintf("peer: array %q has %d values for shape %v", name, len(data), shape))
	}
	d := make([]float64, len(data))
	for i, v := range data {
		d[i] = float64(v)
	}
	c.Arrays[name] = Array{Shape: append([]int{}, shape...), Data: d}
}

var safeName = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Write writes c to dir/<name>.json atomically. Non-finite values are refused: JSON
// has no spelling for them, and a case that diverged checks nothing.
func Write(dir string, c *Case) error {
	if !safeName.MatchString(c.Name) {
		return fmt.Errorf("peer: case name %q must be letters, digits, '_', '.' or '-'", c.Name)
	}
	for name, a := range c.Arrays {
		for i, v := range a.Data {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("peer: case %s: %s[%d] = %v is not finite", c.Name, name, i, v)
			}
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, c.Name+".json"), b)
}

// Read reads a case written by Write.
func Read(path string) (*Case, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c Case
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("peer: %s: %w", path, err)
	}
	return &c, nil
}

// Table is a brownian.Motion that answers exactly the step increments of one step
// grid, from stored values: the same numbers the Python side hands torchsde through a
// BaseBrownian, so that the two libraries solve with identical noise. Any other query
// is an error, which also proves that a solver asked only for its steps.
type Table struct {
	t0, t1     float64
	batch, dim int
	index      map[[2]float64]int
	inc        []float64
}

// NewTable returns the motion whose increment over step k of g (in the order of
// g.Time) is inc[k·batch·dim : (k+1)·batch·dim], path-major.
func NewTable(g brownian.Grid, batch, dim int, inc []float64) (*Table, error) {
	n := g.Len()
	if batch < 1 || dim < 1 || len(inc) != n*batch*dim {
		return nil, fmt.Errorf("peer: %d increments for %d steps × %d paths × %d channels", len(inc), n, batch, dim)
	}
	m := &Table{t0: g.Ts[0], t1: g.Ts[len(g.Ts)-1], batch: batch, dim: dim, index: map[[2]float64]int{}, inc: inc}
	k := 0
	for i, s := range g.Steps {
		for j := range s {
			m.index[[2]float64{g.Time(i, j), g.Time(i, j+1)}] = k
			k++
		}
	}
	return m, nil
}

// StepTimes returns the start and end of every step of g, in order (2 values a step).
func StepTimes(g brownian.Grid) []float64 {
	var ts []float64
	for i, s := range g.Steps {
		for j := range s {
			ts = append(ts, g.Time(i, j), g.Time(i, j+1))
		}
	}
	return ts
}

// Normals returns increments for every step of g: N(0, h) for a step of length h, for
// batch×dim paths and channels, drawn from seed.
func Normals(g brownian.Grid, batch, dim int, seed uint64) []float64 {
	r := rand.New(rand.NewPCG(seed, 0x70656572)) // "peer"
	var inc []float64
	for i, s := range g.Steps {
		for j := range s {
			sd := math.Sqrt(g.Time(i, j+1) - g.Time(i, j))
			for range batch * dim {
				inc = append(inc, sd*r.NormFloat64())
			}
		}
	}
	return inc
}

// Batch is the number of paths.
func (m *Table) Batch() int { return m.batch }

// Dim is the number of channels.
func (m *Table) Dim() int { return m.dim }

// Span is the grid's first and last time.
func (m *Table) Span() (float64, float64) { return m.t0, m.t1 }

// Increment writes the stored increment of the step [s, t].
func (m *Table) Increment(dst []float64, s, t float64) error {
	k, ok := m.index[[2]float64{s, t}]
	if !ok {
		return fmt.Errorf("peer: [%v, %v] is not a step of the grid; the table answers only its steps", s, t)
	}
	if len(dst) != m.batch*m.dim {
		return fmt.Errorf("peer: dst has %d values, want %d", len(dst), m.batch*m.dim)
	}
	copy(dst, m.inc[k*m.batch*m.dim:(k+1)*m.batch*m.dim])
	return nil
}
