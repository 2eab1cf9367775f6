//go:build cgo && !cuda

package cuda

// The emulator runs every GPU thread on one core: smaller batches keep `make test`
// quick while still spanning several reduction strides (256) and blocks.
const (
	wideMaxBatch = 300
	bigBatch     = 2000
	ganBatch     = 96
)

func openTestEngine() (*Engine, error) { return OpenEmulator(), nil }
