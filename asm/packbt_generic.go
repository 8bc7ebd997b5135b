package asm

// packBT16Generic is the pure-Go twin of packBT16AVX2: it packs kb columns
// of sixteen rows of b (row stride ldb) transposed into panel, element
// (p, j) = b[j*ldb+p] at panel[p*16+j].
func packBT16Generic(panel, b []float32, ldb, kb int) {
	panel = panel[:kb*nr]
	for j := 0; j < nr; j++ {
		src := b[j*ldb : j*ldb+kb]
		for p, v := range src {
			panel[p*nr+j] = v
		}
	}
}
