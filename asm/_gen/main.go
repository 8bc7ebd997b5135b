// Command _gen generates the avo-built assembly of package asm, one file
// per run:
//
//	go run . -kernel NAME -out ../FILE.s
//
// It is its own module so that the engine does not depend on avo; the
// go:generate lines are in ../gen.go, and .ci/run re-runs them and fails
// when the committed .s files differ. Each kernel's generator is written
// once and instantiated per register width (ymm for AVX2, zmm for
// AVX-512): the float64 row reductions (reduce.go), the element-wise
// kernels and sign packing (elementwise.go), the GEMM micro-kernel
// (sgemm.go), the transposing B packer (packbt.go) and the A packers
// (packa.go, sharing packbt.go's transpose steps). Every .s file of package
// asm comes from here; none is hand-written.
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"

	. "github.com/mmcloughlin/avo/build"
)

var kernels = map[string]func(){
	"dot":            func() { dotKernel(ymm); dotKernel(zmm) },
	"sqdist":         func() { sqDistKernel(ymm); sqDistKernel(zmm) },
	"rowdots":        func() { rowDotsKernel(ymm); rowDotsKernel(zmm) },
	"rowsumsquares":  func() { rowSumSquaresKernel(ymm); rowSumSquaresKernel(zmm) },
	"axpy":           func() { axpyKernel(ymm) },
	"relu":           func() { reluKernel(ymm); reluMaskKernel(ymm) },
	"signpack":       func() { signPackKernel(ymm) },
	"sgemm":          sgemm6x16,
	"packa":          packA6,
	"packat":         packAT,
	"axpy512":        axpy512,
	"relu512":        func() { relu512(); reluMask512() },
	"signpack512":    signPack512,
	"sgemm512":       func() { sgemm6x32(); sgemm12x32(); sgemm12x16(); sgemmLdb() },
	"dotgemm":        func() { dotTile(4, 6); dotTile(6, 4) },
	"packbt":         func() { packBT(16); packBT(32) },
	"packb":          func() { packB(16); packB(32) },
	"maskedrownorms": func() { maskedRowNormsKernel(ymm); maskedRowNormsKernel(zmm) },
	"biasrelu":       func() { biasReLUKernel(ymm); biasReLUKernel(zmm) },
	"gemv": func() {
		sumRowsKernel(ymm)
		sumRowsKernel(zmm)
		rowChainsKernel(true)
		rowChainsKernel(false)
		rowChains16Kernel(true)
		rowChains16Kernel(false)
		rowChains8Kernel(true)
		rowChains8Kernel(false)
	},
}

func main() {
	// -kernel is ours; -out and the rest are avo's (build.Generate).
	name := ""
	args := []string{os.Args[0]}
	for i := 1; i < len(os.Args); i++ {
		if os.Args[i] == "-kernel" && i+1 < len(os.Args) {
			name = os.Args[i+1]
			i++
			continue
		}
		args = append(args, os.Args[i])
	}
	os.Args = args
	gen, ok := kernels[name]
	if !ok {
		var names []string
		for n := range kernels {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Fprintf(os.Stderr, "_gen: -kernel must be one of %v\n", names)
		os.Exit(2)
	}
	flag.CommandLine.Init(os.Args[0], flag.ExitOnError)
	ConstraintExpr("!noasm,!purego,gc")
	gen()
	Generate()
}
