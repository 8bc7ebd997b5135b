package asm

// The packers write mr = 6 elements by name.
var _ [0]struct{} = [mr - 6]struct{}{}

// packATGeneric is the pure-Go twin of packATAVX2: element (r, p) of panel
// q, dst[q·kb·6 + p·6 + r], is alpha·a[p·lda + 6q + r]. Element by element:
// a [6]float32 copy would compile to a runtime.memmove call per row.
func packATGeneric(dst, a []float32, lda, kb, panels int, alpha float32) {
	dst = dst[:panels*kb*mr]
	for q := 0; q < panels; q++ {
		panel := dst[q*kb*mr : (q+1)*kb*mr]
		for p := 0; p < kb; p++ {
			s := (*[mr]float32)(a[p*lda+q*mr : p*lda+q*mr+mr])
			d := (*[mr]float32)(panel[p*mr : p*mr+mr])
			d[0], d[1], d[2], d[3], d[4], d[5] = alpha*s[0], alpha*s[1], alpha*s[2], alpha*s[3], alpha*s[4], alpha*s[5]
		}
	}
}
