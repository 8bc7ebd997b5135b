//go:build !noasm && !purego && gc

package asm

// packAT6AVX2 packs the transposed six-row panel of op(A) = Aᵀ: six
// contiguous floats of each of kb rows starting at a (row stride lda
// floats), scaled by alpha, row p to panel[p*6 : p*6+6] (one 16-byte and
// one 8-byte load and store per row). The reference is the pure-Go twin,
// packAT6Generic.
//
//go:noescape
func packAT6AVX2(kb int, a *float32, lda int, alpha float32, panel *float32)

// packAT6 packs six full columns of A (six rows of op(A) = Aᵀ); panel needs
// kb*6 elements.
func packAT6(l ISA, panel, a []float32, lda, kb int, alpha float32) {
	if kb <= 0 {
		return
	}
	if l != Go {
		_ = a[(kb-1)*lda+mr-1] // the kb rows of six exist
		_ = panel[kb*mr-1]
		packAT6AVX2(kb, &a[0], lda, alpha, &panel[0])
		return
	}
	packAT6Generic(panel, a, lda, kb, alpha)
}
