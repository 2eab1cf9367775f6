package kernels

// ReduceThreads is the block size of the row reductions (reduce.cu): it fixes the
// order of their additions, so the Go launchers and the emulator use it too.
const ReduceThreads = 256

// constants.cuh holds the constants the kernels share with the Go code, written from
// their Go definitions by constantsHeader (constants_test.go).
//go:generate go test -run TestConstantsHeaderIsCurrent -update .
