// Package kernels holds the numeric primitives the ntklsh engine is built on,
// behind one narrow, batch-oriented interface, Backend.
//
// Every call works on whole matrices or vectors (row-major float32 with a
// leading dimension), never on single elements, so that an implementation can
// use SIMD, several cores or a GPU without the engine changing. The engine
// calls nothing numeric in its hot loops except through a Backend.
//
// Implementations: Generic, in pure Go (GEMM through gonum's native BLAS,
// which uses every core; the vector primitives through the pure-Go twins of
// package asm, which are the reference loops), always available; "avx2"
// and "avx512" (avx2.go), the AVX2+FMA and AVX-512 assembly kernels of
// package asm pinned to that ISA, registered when built for amd64 with gc
// and without the noasm or purego tag, "avx2" usable when cpuid reports
// AVX2 and FMA3 with OS YMM support, "avx512" when it also reports AVX-512
// F/VL/BW/DQ (and BMI2) with OS ZMM and opmask support. avx512 ranks above
// avx2 but automatic selection takes it only where asm.Preferred says
// 512-bit code pays (Intel Ice Lake and later; not Skylake-SP/Cascade Lake,
// AMD Zen 4 or unmeasured CPUs), else avx2; NTKLSH_KERNELS=avx512 forces it
// wherever it is supported; and "cuda" (package cuda, build tag cuda), never chosen
// automatically. Select picks a backend once at start-up by priority, unless
// the NTKLSH_KERNELS environment variable (or --kernels) names one; the
// assembly can also be switched off with NTKLSH_NOASM=1, -tags noasm or
// -tags purego.
//
// Beyond Backend, optional interfaces carry kernels that not every backend
// has: ThreadLimiter (Sgemm with a goroutine cap, for WithMaxThreads),
// ReLUKernels (vector ReLU and its mask), ReLUNorms (a one-output ReLU
// layer's gradient norms in one pass, bit-identical to the backend's own
// unfused kernels), DenseReLU (a dense ReLU layer in one call, bit-identical
// to its bias copy, Sgemm and ReLU) and PackedProducts (a B operand packed
// once for many products, the rehash's weights; bit-identical to Sgemm and
// LinearReLU). Generic has ReLUKernels and ReLUNorms; avx2 and avx512 have
// all five; cuda has none, and the engine takes the unfused paths there.
package kernels
