package kernels

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/gosde/gosde/nn"
	"github.com/gosde/gosde/solver"
)

var update = flag.Bool("update", false, "rewrite constants.cuh from the Go constants")

// TestConstantsHeaderIsCurrent holds constants.cuh to the Go constants it is written
// from; `go generate ./kernels` rewrites it.
func TestConstantsHeaderIsCurrent(t *testing.T) {
	want := constantsHeader()
	if *update {
		if err := os.WriteFile("constants.cuh", want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("constants.cuh")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("kernels/constants.cuh is not what the Go constants give: run `go generate ./kernels` (then `make ptx`)\nwant:\n%s", want)
	}
}

// constantsHeader is the text of constants.cuh: the constants that the Go code and the
// kernels share, written from their Go definitions so that each has one source.
func constantsHeader() []byte {
	var b strings.Builder
	b.WriteString(`// constants.cuh: the constants the kernels share with the Go code, written from their
// Go definitions by ` + "`go generate ./kernels`" + ` (kernels/constants_test.go); do not edit.
#ifndef GOSDE_CONSTANTS_CUH
#define GOSDE_CONSTANTS_CUH

`)
	fmt.Fprintf(&b, "// kernels.ReduceThreads\n#define GOSDE_REDUCE_THREADS %d\n\n", ReduceThreads)
	fmt.Fprintf(&b, "// nn.LipSwishScale, as a float\n#define GOSDE_LIPSWISH_SCALE %sf\n\n",
		strconv.FormatFloat(float64(float32(nn.LipSwishScale)), 'g', -1, 32))
	b.WriteString("namespace gosde {\n\n// nn.Activation\nenum Act {")
	for a := nn.Activation(0); a.Valid(); a++ {
		if a > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " ACT_%s = %d", strings.ToUpper(a.String()), int(a))
	}
	b.WriteString(" };\n\n// solver.Noise\nenum Noise {")
	for i, n := range []struct {
		name  string
		value solver.Noise
	}{{"DIAGONAL", solver.Diagonal}, {"GENERAL", solver.General}, {"ADDITIVE", solver.Additive}, {"SCALAR", solver.Scalar}} {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " NOISE_%s = %d", n.name, int(n.value))
	}
	b.WriteString(" };\n\n} // namespace gosde\n\n#endif\n")
	return []byte(b.String())
}
