package bench

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
)

// mlpLimitSource is shared/reference/mlp_limit.c, carried in the binary so that the CPU
// yardstick can be rebuilt and run beside gosde on any machine that has gcc.
//
//go:embed reference/mlp_limit.c
var mlpLimitSource []byte

// ErrNoCompiler is returned by MLPLimit when gcc is not on PATH.
var ErrNoCompiler = errors.New("gcc not found on PATH: install gcc to measure the CPU yardstick")

// LimitResult is what one run of mlp_limit.c printed.
type LimitResult struct {
	PathEvalsPerSec float64
	GFLOPs          float64
}

var limitLine = regexp.MustCompile(`path-evals/s\s+(\S+)\s+GFLOP/s\s+(\S+)`)

// MLPLimit compiles mlp_limit.c with gcc -O3 -march=native -ffast-math in a temporary
// directory and runs it once with activations (act=1) or without (act=0): the single-
// core throughput attainable on the SDE-GAN generator's vector fields.
func MLPLimit(act int) (LimitResult, error) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		return LimitResult{}, ErrNoCompiler
	}
	dir, err := os.MkdirTemp("", "gosde-mlp-limit-")
	if err != nil {
		return LimitResult{}, err
	}
	defer os.RemoveAll(dir)
	src := filepath.Join(dir, "mlp_limit.c")
	bin := filepath.Join(dir, "mlp_limit")
	if err := os.WriteFile(src, mlpLimitSource, 0o644); err != nil {
		return LimitResult{}, err
	}
	if out, err := exec.Command(gcc, "-O3", "-march=native", "-ffast-math", "-o", bin, src, "-lm").CombinedOutput(); err != nil {
		return LimitResult{}, fmt.Errorf("compiling mlp_limit.c: %v: %s", err, out)
	}
	out, err := exec.Command(bin, strconv.Itoa(act)).Output()
	if err != nil {
		return LimitResult{}, fmt.Errorf("running mlp_limit: %v", err)
	}
	m := limitLine.FindSubmatch(out)
	if m == nil {
		return LimitResult{}, fmt.Errorf("unexpected mlp_limit output %q", out)
	}
	evals, err1 := strconv.ParseFloat(string(m[1]), 64)
	gf, err2 := strconv.ParseFloat(string(m[2]), 64)
	if err1 != nil || err2 != nil {
		return LimitResult{}, fmt.Errorf("unexpected mlp_limit output %q", out)
	}
	return LimitResult{PathEvalsPerSec: evals, GFLOPs: gf}, nil
}
