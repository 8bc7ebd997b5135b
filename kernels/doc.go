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
// (avx2.go), the AVX2+FMA assembly kernels of package asm, registered when
// built for amd64 with gc and without the noasm or purego tag and usable when cpuid reports AVX2 and FMA3 with OS YMM
// support; and "cuda" (package cuda, build tag cuda), never chosen
// automatically. Select picks a backend once at start-up by priority, unless
// the NTKLSH_KERNELS environment variable (or --kernels) names one; the
// assembly can also be switched off with NTKLSH_NOASM=1, -tags noasm or
// -tags purego.
package kernels
