package asm

// Register tile of the GEMM micro-kernel: mr rows of C by nr columns.
// nr512 is the width of the AVX-512 tile and maxNR the widest tile.
const (
	mr    = 6
	nr    = 16
	nr512 = 32
	maxNR = nr512
)

// sgemmKernelGeneric is the pure-Go twin of sgemmKernelAVX2: with packed
// panels a (kc×mr, element (i, p) at a[p*mr+i]) and b (kc×nr, element (p, j)
// at b[p*nr+j]) it sets the mr×nr tile c (leading dimension ldc) to
// acc + beta·c where acc = Σ_p a(·, p)·b(p, ·); beta == 0 does not read c.
func sgemmKernelGeneric(kc int, a, b, c []float32, ldc int, beta float32) {
	var acc [mr][nr]float32
	a = a[:kc*mr]
	b = b[:kc*nr]
	for p := 0; p < kc; p++ {
		bp := (*[nr]float32)(b[p*nr : p*nr+nr])
		ap := (*[mr]float32)(a[p*mr : p*mr+mr])
		for i := range ap {
			ai := ap[i]
			row := &acc[i]
			for j := range bp {
				row[j] += ai * bp[j]
			}
		}
	}
	for i := range acc {
		row := (*[nr]float32)(c[i*ldc : i*ldc+nr])
		if beta == 0 {
			*row = acc[i]
			continue
		}
		for j := range row {
			row[j] = acc[i][j] + beta*row[j]
		}
	}
}

// sgemmKernel32Generic is the pure-Go twin of sgemmKernel6x32AVX512: the
// loop of sgemmKernelGeneric with b kc×32 (element (p, j) at b[p*32+j]) and
// a 6×32 tile.
func sgemmKernel32Generic(kc int, a, b, c []float32, ldc int, beta float32) {
	sgemmKernelLdbGeneric(mr, nr512, kc, a, b, nr512, c, ldc, beta)
}
