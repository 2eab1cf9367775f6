package neuralsde

import (
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
		_, g, err := MeasureEvalThroughput(1024, 3000)
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
