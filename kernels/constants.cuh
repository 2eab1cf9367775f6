// constants.cuh: the constants the kernels share with the Go code, written from their
// Go definitions by `go generate ./kernels` (kernels/constants_test.go); do not edit.
#ifndef GOSDE_CONSTANTS_CUH
#define GOSDE_CONSTANTS_CUH

// kernels.ReduceThreads
#define GOSDE_REDUCE_THREADS 256

// nn.LipSwishScale, as a float
#define GOSDE_LIPSWISH_SCALE 0.909f

namespace gosde {

// nn.Activation
enum Act { ACT_LIPSWISH = 0, ACT_TANH = 1, ACT_SOFTPLUS = 2, ACT_SIGMOID = 3, ACT_RELU = 4, ACT_IDENTITY = 5 };

// solver.Noise
enum Noise { NOISE_DIAGONAL = 0, NOISE_GENERAL = 1, NOISE_ADDITIVE = 2, NOISE_SCALAR = 3 };

} // namespace gosde

#endif
