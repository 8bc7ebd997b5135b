// Package cuda is the NVIDIA GPU backend of ntklsh: an implementation of
// kernels.Backend on one CUDA device, plus a device-resident API (Buffer,
// SgemmDevice and friends) so that the model and the data can stay on the
// GPU between calls.
//
// Everything that touches CUDA is behind the build tag "cuda" (it needs cgo,
// the CUDA headers, libcuda and cuBLAS); without the tag this package holds
// only this documentation, the Activation type and a consistency test of the
// committed PTX, so `go build ./... && go vet ./...` needs no CUDA at all.
//
// # Building and testing
//
// With the CUDA toolkit in /usr/local/cuda (or $CUDA_HOME):
//
//	source cuda/env.sh              # cgo flags, CUDA 13 compatibility header
//	go test -tags cuda ./cuda/...   # or: bash cuda/test.sh, make test-cuda
//
// cuda/devrun.sh does everything on a GPU machine in one go (PTX, vet,
// tests, benchmarks). env.sh force-includes cuda13_compat.h, which lets gorgonia.org/cu v0.9.6
// compile against CUDA 13 headers (see that file). A binary built with
// -tags cuda needs libcuda.so.1 at start, and gorgonia.org/cu calls cuInit
// in its package init and exits the process (status 1, "Error in
// initialization...") when that fails, for instance on a machine with a
// driver but no visible GPU: build with -tags cuda only for machines that
// have one.
//
// # Rehash on the device
//
// Rehasher (rehash.go, rehash.cu) computes a whole engine rehash on the
// GPU: the data are uploaded once, and each Rehash runs the batched forward
// and backward passes, the per-example |a_i|, b_i and exact gradient norms,
// the layer-structured projections (kept on the device for all N when they
// fit) and the code finishing, and downloads only the O(N) results and the
// codes. It is an ntk.Linearizer (Linearize; Rehash takes a model);
// `ntklsh train --kernels cuda` uses it through the accelerator this
// package registers with engine.RegisterAccelerator (accel.go).
//
// Stepper (stepper.go, stepper.cu) is an engine.Stepper (and a
// sample.QueryProjector), used with `ntklsh train --device-step`: it keeps the
// parameters, a gradient buffer and the data set (its own copy, NewStepper,
// or the Rehasher's, NewStepperWith) on the device and runs the lsh query's
// structured projections and the importance-weighted minibatch SGD step
// there (cuBLAS forward, backward and weight gradients, kernels for the
// gather, bias + activation, loss, bias column sums and update); per step
// only the indices and weights go up and the loss comes down. Its tests pass
// on an H200 and it is measured there against the host's CPU step and
// PyTorch (cuda/RESULTS.md); `ntklsh train --kernels cuda` uses it as
// --device-step says: auto (the default) where the measured crossover says
// it is faster (stepchoice.go), on, or off (the per-iteration work on the
// CPU).
//
// # Kernels
//
// GEMM goes to cuBLAS (gorgonia.org/cu/blas) in pure FP32 math
// (CUBLAS_DEFAULT_MATH; TF32 only when asked for with SetTF32). Everything
// else is in kernels.cu, compiled with gen.sh to compute_80 PTX
// (kernels.ptx, committed and embedded), which the driver JIT-compiles for
// the GPU at hand (sm_80 and newer). Row reductions and dot products
// accumulate in float64, as kernels.Generic does.
//
// # Threads and memory
//
// A CUDA context is current on one OS thread, so each Backend owns one
// goroutine locked to its OS thread that creates the context and runs every
// CUDA call; methods hand work to it and wait. A Backend is therefore safe
// for concurrent use (calls are serialized). The kernels.Backend methods take
// host slices: they copy the inputs to device scratch buffers (grow-only,
// reused across calls), compute, and copy the results back. Because
// kernels.Backend has no error results, a CUDA failure inside those methods
// (out of device memory, a failed launch) panics with a "cuda: " message;
// the device-resident methods return such failures as errors and panic only
// on programmer errors (shapes that do not fit the buffers).
//
// Every call costs a hand-off to the CUDA goroutine and back (about 16 µs
// measured on an H100 machine, see RESULTS.md), and the host-slice methods
// add pageable copies both ways: keep data on the device (Buffer) and batch
// work where the cost matters.
//
// With the tag, an init function registers the process-wide Backend (see
// Shared) with kernels.Register under the name "cuda" at priority 20, so
// automatic selection prefers it when a GPU is usable, and
// NTKLSH_KERNELS=cuda forces it.
package cuda
