// Package asm holds AVX2+FMA and AVX-512 assembly kernels for the ntklsh
// engine, each with a pure-Go twin that gives the same results up to float32
// rounding.
//
// The kernels are
//
//   - Sgemm: C = alpha·op(A)·op(B) + beta·C, row-major float32, all four
//     transpose combinations, through a 6×16 (AVX2) or 6×32 (AVX-512)
//     register-tile FMA micro-kernel behind a packing and cache-blocking
//     driver (Goto/BLIS style) that splits large products over up to
//     GOMAXPROCS goroutines; products with m = 1 or n = 1 skip packing
//     (sumRows, rowChains: one FMA chain per element, bit-identical to the
//     packed path), AVX-512 products with n ≤ 16 use the 16-wide
//     packing with a 12×16 zmm tile, and on AVX-512 two shapes of few
//     rows skip packing the large operand (nopack.go): NT with m ≤ 64
//     (4×6 zmm dot-product tiles over rows of A and B, one accumulator per
//     element; not bit-identical to the packed path) and NN with m ≤ 64
//     (12×32 tiles reading B in place; bit-identical); the m-row
//     products with n = 1 run sixteen rows per zmm (AVX-512) or eight per
//     ymm (AVX2) after an in-register transpose, each lane the scalar chain;
//   - SgemmBiasReLU: a dense ReLU layer z = a·bᵀ + bias, h = ReLU(z), the bias
//     and the ReLU applied by the micro-kernel from its registers when the
//     product is one k-block (bit-identical to copy, Sgemm, ReLU);
//   - PackB, SgemmPacked, SgemmBiasReLUPacked: B packed once (PackedB) for
//     products that share it, the rehash's weights; bit-identical to Sgemm
//     and SgemmBiasReLU on every shape (paths that do not pack B read it in
//     place);
//   - Dot, SqDist, RowDots, RowSumSquares: float32 inputs, float64 accumulation;
//   - MaskedRowNorms: per row of h, Σ h², Σ d² and Σ d·h for d = w ⊙ [h ≠ 0]
//     in one pass (a one-output ReLU layer's gradient norms), bit-identical
//     to RowSumSquares, Dot and RowDots of the stored d on each ISA;
//   - Axpy: y += alpha·x in float32;
//   - SignPack: signs of projections packed into k-bit codes.
//
// The GEMM driver's hot packers are assembly too: six rows of A (an 8×8
// register transpose) or, for op(A) = Aᵀ, a block's six-column panels row
// by row; sixteen or thirty-two columns of B, copied for op(B) = B and
// transposed in 8×8 register blocks for op(B) = Bᵀ. asm/PERF.md has the measured speeds.
//
// # Generated assembly
//
// All assembly is generated with avo (github.com/mmcloughlin/avo) by the
// module in _gen, its own go.mod so that this module does not depend on
// avo: the AVX-512 kernels (with a 12×32 GEMM tile, off by default:
// measured no faster) and every AVX2 kernel. One generator per kernel
// family is instantiated per register width, so a loop, its reduction and
// its tail are written once: the float64 row reductions (dot, rowdots,
// rowsumsquares, and maskedrownorms with three sums per row), the element-wise loops (axpy, ReLU forward and backward:
// four vectors per trip, one, then a masked tail on zmm or a scalar one on
// ymm), the GEMM micro-kernels (6×16 ymm, 6×32, 12×32 and 12×16 zmm, one
// tile generator with each kernel's prefetch schedule, and the same tiles
// reading B in place for the NN path that does not pack), the NT
// dot-product tiles and the matrix-vector kernels; sign packing has one
// generator with a bit-queue form for ymm and a mask-register form for
// zmm, and the A and B packers share the in-register transpose steps. gen.go has the //go:generate
// lines; the .s files are committed and .ci/run fails when `go generate
// ./asm` changes them.
//
// # Dispatch
//
// There are three kernel sets (ISA): Go (the twins), AVX2 and AVX512. The
// assembly exists when the package was built with it (amd64, gc, neither
// the "noasm" nor the "purego" build tag, the latter as in x/crypto and
// blake3). AVX2 runs where github.com/klauspost/cpuid/v2 reports AVX2 and
// FMA3, AVX512 where it also reports AVX512F, VL, BW, DQ and BMI2. cpuid
// only reports AVX2 when the OS has enabled YMM state (XGETBV XCR0 bits 1
// and 2) and AVX-512 when it has enabled the opmask and ZMM state (bits
// 5..7), so an OS that does not save those registers gets the narrower set.
//
// The package-level functions run Current(), fixed at start-up to
// Preferred(): AVX512 where it is supported and pays by the rule of
// avx512Pays (Intel cores from Ice Lake on; not Skylake-SP/Cascade Lake,
// which down-clock, nor AMD Zen 4, which splits 512-bit operations, nor any
// CPU not measured), else AVX2 where supported, else Go. NTKLSH_NOASM=1
// forces Go. The methods of an ISA (asm.AVX2.Sgemm, asm.AVX512.Dot, …) run
// that set whatever Current is; package kernels pins its avx2 and avx512
// backends this way, and NTKLSH_KERNELS=avx512 forces AVX-512 where the
// rule passes it over. Tests switch the package-level path with SetISA
// (SetUseAsm switches between Go and the preferred assembly).
//
// # File layout
//
// Every kernel k lives in k_amd64.go (the //go:noescape declarations and the
// dispatch on the ISA, built with !noasm && !purego && gc), k_amd64.s (the
// assembly, same constraint; k_avx512_amd64.s for the AVX-512 forms kept in
// a file of their own), k_generic.go (the pure-Go twin, always compiled) and
// k_noasm.go (the complement, !amd64 || noasm || purego || !gc, which calls
// the twin). The twin is the kernel's one reference loop; the assembly's doc
// comment names it rather than repeating it. The twins of the public kernels
// (DotGeneric, SqDistGeneric, AxpyGeneric, RowSumSquaresGeneric, RowDotsGeneric,
// MaskedRowNormsGeneric, SignPackGeneric, ReLUGeneric, ReLUMaskGeneric) are exported, and
// kernels.Generic runs them. buildtag*.go name the tag that left the
// assembly out, for Supported.
// The public entry points with their argument checks are in kernels.go and
// sgemm.go.
//
// Under the race detector the Go wrappers report what the assembly reads and
// writes with runtime.RaceReadRange and runtime.RaceWriteRange.
package asm
