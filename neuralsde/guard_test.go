package neuralsde

import (
	"testing"

	"github.com/gosde/gosde/internal/guard/guardtest"
	"github.com/gosde/gosde/solver"
)

func TestConcurrentUseIsDetected(t *testing.T) {
	const batch = 40 // three blocks of 16: the helper pool takes part
	s, err := New[float32](Config{Dim: 4, NoiseDim: 2, Noise: solver.General, Width: 8, BlockSize: 16}, 1)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float32, batch*4)
	for i := range y {
		y[i] = float32(i%7) / 7
	}
	f, g := make([]float32, batch*4), make([]float32, batch*8)
	ay, at := make([]float32, batch*4), make([]float32, s.NumParams())
	t.Run("NeuralSDE.Eval", func(t *testing.T) {
		guardtest.Check(t, "*neuralsde.NeuralSDE", &s.use, func() { s.Eval(0.5, y, f, g) })
	})
	t.Run("NeuralSDE.VJP", func(t *testing.T) {
		guardtest.Check(t, "*neuralsde.NeuralSDE", &s.use, func() { s.VJP(0.5, y, f, g, ay, at) })
	})
	c, err := NewCDE[float32](CDEConfig{Dim: 4, ControlDim: 2, Width: 8, BlockSize: 16}, 2)
	if err != nil {
		t.Fatal(err)
	}
	cf, cg := make([]float32, batch*4), make([]float32, batch*8)
	cay, cat := make([]float32, batch*4), make([]float32, c.NumParams())
	t.Run("NeuralCDE.Eval", func(t *testing.T) {
		guardtest.Check(t, "*neuralsde.NeuralCDE", &c.use, func() { c.Eval(0.5, y, cf, cg) })
	})
	t.Run("NeuralCDE.VJP", func(t *testing.T) {
		guardtest.Check(t, "*neuralsde.NeuralCDE", &c.use, func() { c.VJP(0.5, y, nil, cg, cay, cat) })
	})
}
