package kernels

import (
	"bytes"
	"flag"
	"os"
	"testing"
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
