package asm

// packBGeneric is the pure-Go twin of packB16AVX2 (cols = 16) and
// packB32AVX2 (cols = 32): it copies kb rows of cols floats of b (row
// stride ldb) to panel, row p to panel[p*cols : p*cols+cols].
func packBGeneric(cols int, panel, b []float32, ldb, kb int) {
	panel = panel[:kb*cols]
	for p := 0; p < kb; p++ {
		copy(panel[p*cols:p*cols+cols], b[p*ldb:p*ldb+cols])
	}
}
