//go:build cuda

package cuda

const (
	wideMaxBatch = 65536
	bigBatch     = 65536 // the largest agreement batch
	ganBatch     = 1024  // the reference setting
	// sigBenchBatch is the generated and real paths of BenchmarkSigScore (the
	// PyTorch prototype's batch; docs/DESIGN.md, "Training by the signature kernel").
	sigBenchBatch = 64
)

func openTestEngine() (*Engine, error) { return Open(0) }
