package checkpoint_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/gosde/gosde/checkpoint"
)

// Save writes a safetensors file atomically, with a checksum that Load verifies; the
// same file loads in Python with safetensors.numpy.load_file.
func Example() {
	dir, err := os.MkdirTemp("", "checkpoint-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")

	f := checkpoint.File{
		Tensors: map[string]checkpoint.Tensor{
			"readout.weight": {Shape: []int{2, 3}, F32: []float32{1, 2, 3, 4, 5, 6}},
			"step":           {Shape: []int{}, I64: []int64{100}},
		},
		Metadata: map[string]string{"model": "example"},
	}
	if err := checkpoint.Save(path, f); err != nil {
		panic(err)
	}
	g, err := checkpoint.Load(path)
	if err != nil {
		panic(err)
	}
	fmt.Println("tensors:", slices.Sorted(maps.Keys(g.Tensors)))
	w := g.Tensors["readout.weight"]
	fmt.Println("readout.weight", w.Shape, w.F32)
	fmt.Println("step", g.Tensors["step"].I64[0])
	fmt.Println("model", g.Metadata["model"], "checksummed:", g.Metadata[checkpoint.ChecksumKey] != "")

	// A file altered after saving is refused.
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	b[len(b)-1] ^= 1
	_, err = checkpoint.Decode(b)
	fmt.Println("altered file refused:", err != nil)
	// Output:
	// tensors: [readout.weight step]
	// readout.weight [2 3] [1 2 3 4 5 6]
	// step 100
	// model example checksummed: true
	// altered file refused: true
}
