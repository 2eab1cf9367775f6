package bench

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestAgainstMLPLimit compares the single-core evaluation throughput with
// shared/reference/mlp_limit.c built by gcc -O3 -march=native -ffast-math, measured in
// the same run (interleaved, best of three each, to damp noise from other processes).
// Opt-in: set GOSDE_MLP_LIMIT to the path of mlp_limit.c. The requirement is ≥ 40%.
func TestAgainstMLPLimit(t *testing.T) {
	src := os.Getenv("GOSDE_MLP_LIMIT")
	if src == "" {
		t.Skip("set GOSDE_MLP_LIMIT=/path/to/mlp_limit.c to compare with the C reference")
	}
	bin := filepath.Join(t.TempDir(), "mlp_limit")
	if out, err := exec.Command("gcc", "-O3", "-march=native", "-ffast-math", "-o", bin, src, "-lm").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	re := regexp.MustCompile(`GFLOP/s ([0-9.]+)`)
	var bestC, bestGo float64
	for range 3 {
		out, err := exec.Command(bin, "1").Output()
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(out)
		if m == nil {
			t.Fatalf("unexpected mlp_limit output %q", out)
		}
		c, _ := strconv.ParseFloat(string(m[1]), 64)
		bestC = max(bestC, c)
		_, g, err := evalThroughput(1024, 3000, false)
		if err != nil {
			t.Fatal(err)
		}
		bestGo = max(bestGo, g)
	}
	ratio := bestGo / bestC
	t.Logf("generator fields, batch 1024, float32, one core: gosde %.2f GFLOP/s, mlp_limit %.2f GFLOP/s, ratio %.2f", bestGo, bestC, ratio)
	if ratio < 0.4 {
		t.Errorf("gosde reaches %.0f%% of mlp_limit, below the required 40%%", 100*ratio)
	}
}

// TestEvalThroughput checks the FLOPs per path that evalThroughput counts against the
// generator's shapes by hand: drift 17→16→16 and diffusion 17→16→48 are
// 2·(17·16 + 16·16 + 17·16 + 16·48) = 3136 FLOPs forward; with the VJP, three times
// that less the t column of the two first layers' input cotangents, 2·(16 + 16).
func TestEvalThroughput(t *testing.T) {
	for _, c := range []struct {
		vjp   bool
		flops float64
	}{{false, 3136}, {true, 3*3136 - 2*(16+16)}} {
		r, gf, err := evalThroughput(256, 5, c.vjp)
		if err != nil || !(r > 0) || !(gf > 0) {
			t.Fatalf("evalThroughput(vjp %v): %g %g %v", c.vjp, r, gf, err)
		}
		if got := gf * 1e9 / r; math.Abs(got-c.flops) > 1e-9*c.flops {
			t.Errorf("evalThroughput(vjp %v) counts %g FLOPs per path, want %g", c.vjp, got, c.flops)
		}
	}
	for _, c := range [][2]int{{0, 1}, {1, 0}} {
		if _, _, err := evalThroughput(c[0], c[1], false); err == nil {
			t.Errorf("batch %d, iters %d accepted", c[0], c[1])
		}
	}
}
