//go:build !noasm && !purego && gc

package asm

// sgemmKernelAVX2 is the 6×16 register-tile micro-kernel. With packed panels
// a (kc×6, element (i, p) at a[p*6+i]) and b (kc×16, element (p, j) at
// b[p*16+j]) it keeps the 6×16 tile in twelve ymm accumulators, per p
// loading two ymm of b, broadcasting six elements of a and issuing twelve
// vfmadd231ps, and finally sets C = acc + beta·C (beta == 0 stores without
// reading C). The reference is the pure-Go twin, sgemmKernelGeneric.
//
//go:noescape
func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, beta float32)

// sgemmKernel runs the micro-kernel for one full tile; the slices are long
// enough (checked by the driver's construction, not here).
func sgemmKernel(kc int, a, b, c []float32, ldc int, beta float32) {
	if useAsm.Load() {
		sgemmKernelAVX2(kc, &a[0], &b[0], &c[0], ldc, beta)
		return
	}
	sgemmKernelGeneric(kc, a, b, c, ldc, beta)
}
