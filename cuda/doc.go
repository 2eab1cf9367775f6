// Package cuda is gosde's GPU engine: it implements host.Engine with the fused
// reversible-Heun kernels of package kernels, and host.SigKernelEngine (the
// signature-kernel scoring rule, in float64) with its signature-kernel kernels.
// Binaries built with -tags cuda drive them on an NVIDIA GPU through gorgonia.org/cu
// (the CUDA driver API), and register the engine with host as the "gpu" device.
//
// The engine talks to its device through a small backend interface (allocate, copy,
// launch one of the kernels). Besides the GPU backend (build tag cuda) there is an
// emulator (any cgo build) that runs the very kernel bodies — the __host__ __device__
// functions of kernels/*.cuh — on the CPU, one loop iteration per GPU thread, in
// memory of its own. Everything of the engine but the CUDA calls themselves (buffer
// layout, chunked increments, launch arguments, reductions, the gradients' mapping back
// to the host) therefore runs and is tested on any machine, against the CPU engine.
//
// A binary built with -tags cuda needs libcuda.so.1 to start, and gorgonia.org/cu
// initialises CUDA in its own init: without an NVIDIA driver such a binary exits at
// start-up. That is why the GPU backend sits behind a build tag (docs/DESIGN.md, "The
// cuda build tag").
package cuda
