package peer

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gosde/gosde/brownian"
	"github.com/gosde/gosde/neuralsde"
	"github.com/gosde/gosde/solver"
)

func testGrid(t *testing.T) brownian.Grid {
	t.Helper()
	g, err := solver.StepGrid([]float64{0, 0.5, 1.25, 2}, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// The table answers each step with its own stored slice and nothing else.
func TestTableAnswersStepsOnly(t *testing.T) {
	g := testGrid(t) // steps of 0.25: 2 + 3 + 3
	const batch, dim = 2, 3
	inc := make([]float64, g.Len()*batch*dim)
	for i := range inc {
		inc[i] = float64(i)
	}
	m, err := NewTable(g, batch, dim, inc)
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi := m.Span(); lo != 0 || hi != 2 || m.Batch() != batch || m.Dim() != dim {
		t.Fatalf("span [%v, %v], batch %d, dim %d", lo, hi, m.Batch(), m.Dim())
	}
	dst := make([]float64, batch*dim)
	st := StepTimes(g)
	if len(st) != 2*8 || st[4] != 0.5 || st[5] != 0.75 || st[15] != 2 {
		t.Fatalf("step times %v", st)
	}
	for k := range g.Len() {
		if err := m.Increment(dst, st[2*k], st[2*k+1]); err != nil {
			t.Fatal(err)
		}
		if dst[0] != float64(k*batch*dim) || dst[batch*dim-1] != float64((k+1)*batch*dim-1) {
			t.Fatalf("step %d: got %v", k, dst)
		}
	}
	for _, q := range [][2]float64{{0, 0.5}, {0.25, 0}, {0.1, 0.25}, {2, 2.25}} {
		if err := m.Increment(dst, q[0], q[1]); err == nil || !strings.Contains(err.Error(), "not a step") {
			t.Errorf("query %v: error %v, want one saying it is not a step", q, err)
		}
	}
	if err := m.Increment(dst[:1], 0, 0.25); err == nil {
		t.Error("a short dst was accepted")
	}
	if _, err := NewTable(g, batch, dim, inc[1:]); err == nil {
		t.Error("a table with too few increments was made")
	}
}

// recorder keeps the increments a solver asks of a motion, in order.
type recorder struct {
	brownian.Motion
	got []float64
}

func (r *recorder) Increment(dst []float64, s, t float64) error {
	if err := r.Motion.Increment(dst, s, t); err != nil {
		return err
	}
	r.got = append(r.got, dst...)
	return nil
}

// A table holding the increments an Interval gave a forward solve drives the same
// solve to the same bits, and the backward pass asks it only for those steps.
func TestTableReplaysAnIntervalSolve(t *testing.T) {
	g := testGrid(t)
	const batch = 4
	sde, err := neuralsde.New[float64](neuralsde.Config{Dim: 3, NoiseDim: 2, Noise: solver.General, Width: 5}, 1)
	if err != nil {
		t.Fatal(err)
	}
	y0 := []float64{0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, -0.9, 1, 1.1, 1.2}
	iv, err := brownian.NewInterval(0, 2, batch, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Motion: iv}
	opt := solver.Options{Method: solver.ReversibleHeun, Adjoint: solver.Reversible, Dt: 0.25, Motion: rec}
	want, err := solver.Solve(sde, y0, g.Ts, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.got) != g.Len()*batch*2 {
		t.Fatalf("the solve asked for %d values, the grid has %d", len(rec.got), g.Len()*batch*2)
	}
	tab, err := NewTable(g, batch, 2, rec.got)
	if err != nil {
		t.Fatal(err)
	}
	opt.Motion = tab
	got, err := solver.Solve(sde, y0, g.Ts, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Ys {
		if got.Ys[i] != want.Ys[i] {
			t.Fatalf("Ys[%d] = %v on the table, %v on the Interval", i, got.Ys[i], want.Ys[i])
		}
	}
	cot := make([]float64, len(got.Ys))
	for i := range cot {
		cot[i] = math.Sin(float64(i))
	}
	if _, err := got.Backward(cot); err != nil {
		t.Fatalf("backward on the table: %v", err)
	}
}

// What Write writes, Read reads back bit for bit, float32 values included.
func TestWriteReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c := NewCase[float32]("round_trip-1.x", "sde")
	f32 := []float32{0.1, -1.0 / 3, math.MaxFloat32, math.SmallestNonzeroFloat32, 0, 1e-30}
	Add(c, "a", []int{2, 3}, f32)
	f64 := []float64{0.1, math.Pi, -math.MaxFloat64, math.SmallestNonzeroFloat64}
	Add(c, "b", []int{4}, f64)
	Add(c, "scalar", []int{}, []float64{2.5})
	c.Meta["ts"] = []float64{0, 0.5}
	if err := Write(dir, c); err != nil {
		t.Fatal(err)
	}
	r, err := Read(filepath.Join(dir, "round_trip-1.x.json"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Float != "float32" || r.Kind != "sde" || r.Name != c.Name {
		t.Fatalf("read %q %q %q", r.Name, r.Kind, r.Float)
	}
	for i, v := range f32 {
		if got := float32(r.Arrays["a"].Data[i]); got != v {
			t.Errorf("a[%d] = %v, wrote %v", i, got, v)
		}
	}
	for i, v := range f64 {
		if got := r.Arrays["b"].Data[i]; got != v {
			t.Errorf("b[%d] = %v, wrote %v", i, got, v)
		}
	}
	if s := r.Arrays["a"].Shape; len(s) != 2 || s[0] != 2 || s[1] != 3 {
		t.Errorf("shape %v", s)
	}
	if s := r.Arrays["scalar"].Shape; s == nil || len(s) != 0 {
		t.Errorf("scalar shape %v, want []", s)
	}
	if NewCase[float64]("x", "gan").Float != "float64" {
		t.Error("a float64 case is not marked float64")
	}
}

func TestWriteRefuses(t *testing.T) {
	dir := t.TempDir()
	bad := NewCase[float64]("nan", "sde")
	Add(bad, "x", []int{2}, []float64{1, math.NaN()})
	if err := Write(dir, bad); err == nil || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("a NaN was written: %v", err)
	}
	for _, name := range []string{"", "../up", "a b", "a/b"} {
		if err := Write(dir, NewCase[float64](name, "sde")); err == nil {
			t.Errorf("case name %q accepted", name)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused cases left %d files", len(entries))
	}
	defer func() {
		if recover() == nil {
			t.Error("Add accepted 3 values for shape [2]")
		}
	}()
	Add(bad, "y", []int{2}, []float64{1, 2, 3})
}

// Normals draws N(0, h) for each step: the mean square of the increments of each
// step, over many paths, is close to its length.
func TestNormalsScale(t *testing.T) {
	g, err := solver.StepGrid([]float64{0, 1, 1.5}, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	const batch, dim = 4000, 2
	inc := Normals(g, batch, dim, 3)
	if len(inc) != g.Len()*batch*dim {
		t.Fatalf("%d increments for %d steps", len(inc), g.Len())
	}
	n := batch * dim
	for k := range g.Len() {
		var ss float64
		for _, v := range inc[k*n : (k+1)*n] {
			ss += v * v
		}
		// mean of n χ²₁·h/n: sd h·√(2/n) ≈ 0.016h; 6 sd.
		if got := ss / float64(n); math.Abs(got-0.25) > 6*0.25*math.Sqrt(2.0/float64(n)) {
			t.Errorf("step %d: mean square %v, want 0.25", k, got)
		}
	}
}
