// Package asm holds hand-written AVX2+FMA assembly kernels for the ntklsh
// engine, each with a pure-Go twin that gives the same results up to float32
// rounding.
//
// The kernels are
//
//   - Sgemm: C = alpha·op(A)·op(B) + beta·C, row-major float32, all four
//     transpose combinations, through a 6×16 register-tile FMA micro-kernel
//     behind a packing and cache-blocking driver (Goto/BLIS style) that
//     splits large products over up to GOMAXPROCS goroutines;
//   - Dot, RowDots, RowSumSquares: float32 inputs, float64 accumulation;
//   - Axpy: y += alpha·x in float32;
//   - SignPack: signs of projections packed into k-bit codes.
//
// The GEMM driver's two hot packers (six rows of A, and sixteen rows of B
// for op(B) = Bᵀ) are assembly too, transposing 8×8 blocks in registers.
// asm/PERF.md has the measured speeds.
//
// # Dispatch
//
// Which path runs is decided once at start-up: the assembly is used when the
// package was built with it (amd64, gc, neither the "noasm" nor the "purego"
// build tag, the latter as in x/crypto and blake3) and
// github.com/klauspost/cpuid/v2 reports AVX2 and FMA3. cpuid only reports AVX2
// when the OS has enabled YMM state (XGETBV XCR0 bits 1 and 2), so a CPU with
// AVX2 under an OS that does not save YMM registers falls back to Go. Setting
// the environment variable NTKLSH_NOASM=1 forces the Go twins. Tests switch
// paths with SetUseAsm.
//
// # File layout
//
// Every kernel k lives in k_amd64.go (the //go:noescape declaration and the
// dispatch, built with !noasm && !purego && gc), k_amd64.s (the assembly,
// same constraint), k_generic.go (the pure-Go twin, always compiled) and
// k_noasm.go (the complement, !amd64 || noasm || purego || !gc, which calls
// the twin). The twin is the kernel's one reference loop; the assembly's doc
// comment names it rather than repeating it. The twins of the public kernels
// (DotGeneric, AxpyGeneric, RowSumSquaresGeneric, RowDotsGeneric,
// SignPackGeneric, ReLUGeneric, ReLUMaskGeneric) are exported, and
// kernels.Generic runs them. buildtag*.go name the tag that left the
// assembly out, for Supported.
// The public entry points with their argument checks are in kernels.go and
// sgemm.go.
//
// Under the race detector the Go wrappers report what the assembly reads and
// writes with runtime.RaceReadRange and runtime.RaceWriteRange.
package asm
