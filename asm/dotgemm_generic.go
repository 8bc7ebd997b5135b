package asm

// sgemmDotGeneric is the pure-Go twin of sgemmDot4x6AVX512 and
// sgemmDot6x4AVX512 (the NT tile that packs neither operand): for
// i < len(a), j < len(b),
//
//	c[i·ldc+j] = alpha·Σ_{p<kc} a[i][p]·b[j][p] + beta·c[i·ldc+j]
//
// (beta == 0: c is not read). The assembly sums p in sixteen lanes and
// adds the lanes at the end, so it agrees with this loop to rounding, not
// bit for bit.
func sgemmDotGeneric(kc int, a, b [][]float32, c []float32, ldc int, alpha, beta float32) {
	for i, ar := range a {
		for j, br := range b {
			var s float32
			for p, v := range ar[:kc] {
				s += v * br[p]
			}
			s *= alpha
			if beta != 0 {
				s += beta * c[i*ldc+j]
			}
			c[i*ldc+j] = s
		}
	}
}

// sgemmKernelLdbGeneric is the pure-Go twin of the micro-kernels on packed
// A panels: it sets the rows×cols tile c (cols ≤ 32; leading dimension
// ldc) to acc + beta·c, acc = Σ_p a(·, p)·b(p, ·), where a holds
// ⌈rows/mr⌉ packed six-row panels one after the other (element (i, p) of
// panel q at a[q·kc·mr + p·mr + i]) and row p of b starts at b[p·ldb];
// beta == 0 does not read c. With ldb = cols it is the kernel on a packed
// B panel (sgemmKernel32Generic); with the matrix's ldb, the NN tiles that
// read B in place (sgemmKernel{1..6,12}x32LdbAVX512).
func sgemmKernelLdbGeneric(rows, cols, kc int, a, b []float32, ldb int, c []float32, ldc int, beta float32) {
	for i := range rows {
		ap := a[i/mr*kc*mr : i/mr*kc*mr+kc*mr]
		var buf [maxNR]float32
		acc := buf[:cols]
		for p := 0; p < kc; p++ {
			ai := ap[p*mr+i%mr]
			for j, v := range b[p*ldb : p*ldb+cols] {
				acc[j] += ai * v
			}
		}
		row := c[i*ldc : i*ldc+cols]
		for j := range row {
			if beta == 0 {
				row[j] = acc[j]
				continue
			}
			row[j] = acc[j] + beta*row[j]
		}
	}
}
