// Package nn holds the small multilayer perceptrons that parametrise neural SDE vector
// fields, with hand-written batched forward passes and vector–Jacobian products (VJPs),
// in float32 and float64.
//
// # Parameters
//
// An MLP is a shape (see Config); its parameters live in one flat vector []F owned by
// the caller. Layer l occupies W_l (Out_l×In_l, row-major) followed by b_l (Out_l), the
// layers one after the other from input to output; Layers reports the offsets. Init
// fills such a vector like PyTorch's nn.Linear default, and WeightRanges/ClipWeights
// support the SDE-GAN's entrywise weight clipping.
//
// # Engine
//
// Inside the engine a batch is stored feature-major ("structure of arrays"): one row per
// feature, paths innermost, so the inner loops run over paths with SIMD. Path-major data
// is transposed in and out at the boundaries. The low-level API is
//
//   - Packed: the parameters copied into kernel layout once per call (4-row interleaved
//     weight tiles, transposed tiles for the backward pass, biases), with optional
//     constant leading inputs (e.g. the time t of a vector field f(t, y)) folded into
//     the first layer's bias;
//   - Workspace: the activations and derivatives of one block of paths, kept after
//     Forward so that Backward can reuse them;
//   - Grad: a parameter-cotangent accumulator in kernel layout, added into a flat
//     gradient by Packed.AddGrad.
//
// Net wraps these for path-major batches.
//
// On amd64 with AVX2 and FMA the float32 kernels are Go assembly: a register-blocked
// product of 4 output rows × 16 paths (8 accumulators), a 4×2 tile kernel with lane-wise
// accumulation and a horizontal-add tree for parameter cotangents, 8×8 in-register
// transposes, and vectorised activations. Elsewhere, and for float64, portable Go is used
// (float64 activations are exact: math.Exp/math.Tanh based).
//
// # Accuracy of the fast float32 activations
//
// exp is a range reduction to [−ln2/2, ln2/2] with a two-part ln 2 and a degree-5
// minimax polynomial (the XNNPACK "rr2_p5" scheme), reciprocals are VRCPPS plus one
// Newton step, and tanh is Eigen's 13/6 rational approximation on [−7.905, 7.905].
// Measured against float64 math (see TestFastActivationAccuracy): relative error below
// 1e-6 for tanh, sigmoid and LipSwish outputs on normal-range results. Sigmoid's argument
// is clamped to [−88, 87], so σ(x) for x < −88 returns about 6e-39 instead of a smaller
// value (absolute error below 1e-38). The portable float32 path evaluates the same
// formulas in scalar Go, so it agrees with the assembly to a few ulp, not bit for bit.
package nn
