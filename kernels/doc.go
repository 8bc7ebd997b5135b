// Package kernels holds the numeric primitives the ntklsh engine is built on,
// behind one narrow, batch-oriented interface, Backend.
//
// Every call works on whole matrices or vectors (row-major float32 with a
// leading dimension), never on single elements, so that an implementation can
// use SIMD, several cores or a GPU without the engine changing. The engine
// calls nothing numeric in its hot loops except through a Backend.
//
// Two implementations exist in this package: Generic, in pure Go (GEMM through
// gonum's native BLAS, which uses every core), and the selection logic that
// picks a backend once at start-up from CPU features (github.com/klauspost/cpuid/v2)
// and the NTKLSH_KERNELS environment variable. Faster backends register
// themselves with Register.
package kernels
