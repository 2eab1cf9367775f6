//go:build cgo && !cuda

package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// The emulator runs every GPU thread on one core: smaller batches keep `make test`
// quick while still spanning several reduction strides (256) and blocks.
const (
	wideMaxBatch = 300
	bigBatch     = 2000
	ganBatch     = 96
	// sigBenchBatch is the generated and real paths of BenchmarkSigScore.
	sigBenchBatch = 8
)

func openTestEngine() (*Engine, error) { return OpenEmulator(), nil }

// The emulator compiles kernels/*.cuh, which Go's build cache does not track (they are
// outside this package): it carries their hash, and must be rebuilt (`make ptx`
// rewrites cuda/kernels_sha.h) whenever they change, or these tests would test stale
// kernels.
func TestEmulatorIsBuiltFromTheCurrentKernels(t *testing.T) {
	names, err := filepath.Glob("../kernels/*.cu")
	if err != nil {
		t.Fatal(err)
	}
	hs, _ := filepath.Glob("../kernels/*.cuh")
	names = append(names, hs...)
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if got, want := emulatorKernelsSHA256(), hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("the emulator was compiled from other kernel sources (hash %.12s…, the sources' %.12s…): run `make ptx`", got, want)
	}
}
