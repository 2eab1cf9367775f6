//go:build cuda

package cuda

const (
	wideMaxBatch = 65536
	bigBatch     = 65536 // the largest agreement batch
	ganBatch     = 1024  // the reference setting
)

func openTestEngine() (*Engine, error) { return Open(0) }
