package asm

// sumRowsGeneric is the pure-Go twin of sumRowsAVX2 and sumRowsAVX512:
// out[j] = Σ_{p<kb} fl(alpha·x[p·ldx+j])·s[p·incs] for j < n, one
// accumulation per j in the order of p, as the micro-kernel's column j does
// (alpha applied to x first, as the packer applies it to A).
func sumRowsGeneric(kb, n int, alpha float32, s []float32, incs int, x []float32, ldx int, out []float32) {
	out = out[:n]
	clear(out)
	for p := 0; p < kb; p++ {
		sp := s[p*incs]
		for j, v := range x[p*ldx : p*ldx+n] {
			t := alpha * v
			out[j] += t * sp
		}
	}
}

// rowChainsGeneric is the pure-Go twin of rowChainsFMA and rowChains1FMA:
// out[r] = Σ_{p<kb} fl(alpha·a[r·lda+p])·s[p·incs] for r < rows, one
// accumulation per row in the order of p.
func rowChainsGeneric(kb, rows int, alpha float32, a []float32, lda int, s []float32, incs int, out []float32) {
	for r := 0; r < rows; r++ {
		var acc float32
		for p, v := range a[r*lda : r*lda+kb] {
			t := alpha * v
			acc += t * s[p*incs]
		}
		out[r] = acc
	}
}

// scalarChains makes rowChains use the scalar kernels on the AVX-512 level
// too, so that tests can compare the sixteen-lane form with them.
var scalarChains bool
