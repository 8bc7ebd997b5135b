//go:build !noasm && !purego && gc

package asm

// packA6AVX2 packs six rows of kb floats starting at a (row stride lda
// floats) scaled by alpha into panel, element (r, p) at panel[p*6+r]. Eight
// columns at a time are loaded (six ymm), scaled, transposed in registers
// (vunpcklps/vunpckhps, vshufps, vperm2f128) and stored as eight 32-byte
// stores 24 bytes apart, in increasing order so that each store overwrites
// the two junk lanes of the one before; the junk of the last column of the
// last eight-column block lands in panel[kb*6 : kb*6+2], which must exist.
// The reference is the pure-Go twin, packA6Generic.
//
//go:noescape
func packA6AVX2(kb int, a *float32, lda int, alpha float32, panel *float32)

// packA6 packs six full rows; panel needs kb*6+2 elements (the last two are
// scratch for the assembly). Both assembly ISAs use the AVX2 packer (the
// tile height is six for both).
func packA6(l ISA, panel, a []float32, lda, kb int, alpha float32) {
	if l != Go {
		_ = a[5*lda+kb-1]    // the six rows exist
		_ = panel[kb*mr+2-1] // room for the junk lanes
		packA6AVX2(kb, &a[0], lda, alpha, &panel[0])
		return
	}
	packA6Generic(panel, a, lda, kb, alpha)
}
