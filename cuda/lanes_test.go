package cuda

import (
	"testing"

	"github.com/gosde/gosde/kernels"
	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

func TestAutoLanes(t *testing.T) {
	for _, c := range []struct{ B, sms, hidden, want int }{
		{1024, 132, 16, 16},  // the SDE-GAN's generator at its reference batch
		{1024, 132, 128, 32}, // capped at a warp
		{1024, 132, 12, 8},   // no more lanes than hidden units
		{1024, 132, 1, 1},
		{65536, 132, 16, 16},  // 16 × 65,536 threads still fit 8192 per multiprocessor
		{65536, 132, 128, 16}, // 32 lanes would not
		{1 << 22, 132, 128, 1},
		{7, 0, 128, 1}, // the emulator
	} {
		if got := autoLanes(c.B, c.sms, c.hidden); got != c.want {
			t.Errorf("autoLanes(B %d, %d SMs, hidden %d) = %d, want %d", c.B, c.sms, c.hidden, got, c.want)
		}
	}
}

// Every launch shape fits the shared memory a block gets without opting in, has whole
// paths per block, and stages only what fits; the generator at batch 1024 keeps both
// its workspace and its gradients in shared memory.
func TestPlanPaths(t *testing.T) {
	mlp := func(in, out, w int) *nn.MLP { return nn.MustMLP(nn.Config{In: in, Out: out, Width: w, Depth: 1}) }
	for _, w := range []int{16, 128} {
		field, err := kernels.NewField(16, 3, solver.General, mlp(17, 16, w), mlp(17, 48, w))
		if err != nil {
			t.Fatal(err)
		}
		for _, B := range []int{1, 7, 1024, 65536} {
			for _, sms := range []int{0, 132} {
				for _, lanes := range []int{0, 1, 4, 32} {
					for _, backward := range []bool{false, true} {
						pl := planPaths(field, B, sms, lanes, backward)
						if lanes > 0 && pl.lanes != lanes || pl.threads%pl.lanes != 0 || pl.threads > 1024 {
							t.Errorf("w%d B%d sms%d lanes%d: %v", w, B, sms, lanes, pl)
						}
						rows := 0
						if pl.stageWS {
							rows += field.Rows
						}
						if pl.stageG {
							rows += field.NumParams
						}
						if pl.sharedBytes != rows*4*pl.threads/pl.lanes || pl.sharedBytes > sharedLimit || pl.stageG && !backward {
							t.Errorf("w%d B%d sms%d lanes%d backward %v: %v", w, B, sms, lanes, backward, pl)
						}
					}
				}
			}
		}
	}
	gen, _ := kernels.NewField(16, 3, solver.General, mlp(17, 16, 16), mlp(17, 48, 16))
	if pl := planPaths(gen, 1024, 132, 0, true); pl.lanes != 16 || !pl.stageWS || !pl.stageG {
		t.Errorf("generator at batch 1024 on 132 SMs: %v, want 16 lanes with workspace and gradients in shared memory", pl)
	}
}
