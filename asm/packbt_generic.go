package asm

// packBTGeneric is the pure-Go twin of packBT16AVX2 (rows = 16) and
// packBT32AVX2 (rows = 32): it packs kb columns of rows rows of b (row
// stride ldb) transposed into panel, element (p, j) = b[j*ldb+p] at
// panel[p*rows+j].
func packBTGeneric(rows int, panel, b []float32, ldb, kb int) {
	panel = panel[:kb*rows]
	for j := 0; j < rows; j++ {
		src := b[j*ldb : j*ldb+kb]
		for p, v := range src {
			panel[p*rows+j] = v
		}
	}
}
