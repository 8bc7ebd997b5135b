package asm

// signPackGeneric is the pure-Go twin of signPackAVX2.
func signPackGeneric(m, k, l int, p []float32, ldp int, codes []uint32) {
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
