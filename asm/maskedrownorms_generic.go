package asm

import "math"

// MaskedRowNormsGeneric is the pure-Go twin of maskedRowNormsAVX2 and the
// reference loop of MaskedRowNorms: for row i < m of h (n elements) and
// d = w ⊙ [h ≠ 0] (ReLUMaskGeneric's mask: NaN h keeps w, ±0 clears it) it
// sets out[3i] = Σ h², out[3i+1] = Σ d², out[3i+2] = Σ d·h, each sum with
// DotGeneric's four partial sums and order, so that they equal
// RowSumSquaresGeneric of h (scale 1), DotGeneric(d, d) and
// RowDotsGeneric(d, h) of the materialized float32 row d bit for bit.
// Always compiled, never assembly.
func MaskedRowNormsGeneric(m, n int, h []float32, ldh int, w []float32, out []float64) {
	w = w[:n]
	for i := 0; i < m; i++ {
		row := h[i*ldh : i*ldh+n]
		var hh, dd, dh [4]float64
		j := 0
		for ; j+4 <= n; j += 4 {
			for u := range 4 {
				x, d := maskedTerm(row[j+u], w[j+u])
				hh[u] += x * x
				dd[u] += d * d
				dh[u] += d * x
			}
		}
		for ; j < n; j++ {
			x, d := maskedTerm(row[j], w[j])
			hh[0] += x * x
			dd[0] += d * d
			dh[0] += d * x
		}
		out[3*i] = (hh[0] + hh[1]) + (hh[2] + hh[3])
		out[3*i+1] = (dd[0] + dd[1]) + (dd[2] + dd[3])
		out[3*i+2] = (dh[0] + dh[1]) + (dh[2] + dh[3])
	}
}

// maskedTerm widens h and w masked by h ≠ 0 (the float32 that ReLUMaskGeneric
// leaves) to float64.
func maskedTerm(h, w float32) (x, d float64) {
	b := math.Float32bits(h) &^ (1 << 31)
	mask := uint32(int32(b|-b) >> 31)
	return float64(h), float64(math.Float32frombits(math.Float32bits(w) & mask))
}
