package asm

// packA6Generic is the pure-Go twin of packA6AVX2: it packs six rows of kb
// floats (row stride lda) scaled by alpha into panel, element (r, p) at
// panel[p*6+r].
func packA6Generic(panel, a []float32, lda, kb int, alpha float32) {
	r0 := a[0*lda : 0*lda+kb]
	r1 := a[1*lda : 1*lda+kb]
	r2 := a[2*lda : 2*lda+kb]
	r3 := a[3*lda : 3*lda+kb]
	r4 := a[4*lda : 4*lda+kb]
	r5 := a[5*lda : 5*lda+kb]
	panel = panel[:kb*mr]
	for p := range r0 {
		d := (*[mr]float32)(panel[p*mr : p*mr+mr])
		d[0] = alpha * r0[p]
		d[1] = alpha * r1[p]
		d[2] = alpha * r2[p]
		d[3] = alpha * r3[p]
		d[4] = alpha * r4[p]
		d[5] = alpha * r5[p]
	}
}
