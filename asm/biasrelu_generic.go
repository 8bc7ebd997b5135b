package asm

// biasReLUGeneric is the pure-Go twin of biasReLUAVX2 and biasReLUAVX512,
// and the reference loop of the GEMM epilogue of SgemmBiasReLU: for r <
// rows, j < cols, z[r·ldz+j] += bias[j], then h[r·ldh+j] = max(z[r·ldz+j],
// 0) (Go's max: NaN stays NaN, −0 becomes +0).
func biasReLUGeneric(rows, cols int, z []float32, ldz int, bias, h []float32, ldh int) {
	bias = bias[:cols]
	for r := 0; r < rows; r++ {
		zr := z[r*ldz : r*ldz+cols]
		hr := h[r*ldh : r*ldh+cols]
		for j, b := range bias {
			v := zr[j] + b
			zr[j] = v
			hr[j] = max(v, 0)
		}
	}
}
