package asm

// SignPackGeneric is the pure-Go twin of signPackAVX2 and the reference loop
// of SignPack: bit j of codes[i*l+t] is set when p[i*ldp+t*k+j] > 0, for
// i < m, t < l, j < k (k ≤ 32, not checked here). Always compiled, never
// assembly.
func SignPackGeneric(m, k, l int, p []float32, ldp int, codes []uint32) {
	for i := 0; i < m; i++ {
		row := p[i*ldp : i*ldp+k*l]
		out := codes[i*l : i*l+l]
		for t := range out {
			var code uint32
			for j, v := range row[t*k : t*k+k] {
				if v > 0 {
					code |= 1 << uint(j)
				}
			}
			out[t] = code
		}
	}
}
