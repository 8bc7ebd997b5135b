package asm

// The packers write mr = 6 elements by name.
var _ [0]struct{} = [mr - 6]struct{}{}

// packAT6Generic is the pure-Go twin of packAT6AVX2: element (r, p) of the
// panel, panel[p*6+r], is alpha·a[p*lda+r]. Element by element: a
// [6]float32 copy would compile to a runtime.memmove call per row.
func packAT6Generic(panel, a []float32, lda, kb int, alpha float32) {
	panel = panel[:kb*mr]
	for p := 0; p < kb; p++ {
		s := (*[mr]float32)(a[p*lda : p*lda+mr])
		d := (*[mr]float32)(panel[p*mr : p*mr+mr])
		d[0], d[1], d[2], d[3], d[4], d[5] = alpha*s[0], alpha*s[1], alpha*s[2], alpha*s[3], alpha*s[4], alpha*s[5]
	}
}
