//go:build !noasm && !purego && gc

package asm

// packBT16AVX2 packs kb columns of sixteen rows starting at b (row stride
// ldb floats) transposed into panel, element (p, j) = b[j*ldb+p] at
// panel[p*16+j]: eight columns at a time, rows 0..7 and rows 8..15 each go
// through an in-register 8×8 transpose (vunpcklps/vunpckhps, vshufps,
// vperm2f128). The reference is the pure-Go twin, packBT16Generic.
//
//go:noescape
func packBT16AVX2(kb int, b *float32, ldb int, panel *float32)

// packBT16 packs sixteen full rows of op(B)ᵀ; panel needs kb*16 elements.
func packBT16(panel, b []float32, ldb, kb int) {
	if useAsm.Load() {
		_ = b[15*ldb+kb-1]
		_ = panel[kb*nr-1]
		packBT16AVX2(kb, &b[0], ldb, &panel[0])
		return
	}
	packBT16Generic(panel, b, ldb, kb)
}
