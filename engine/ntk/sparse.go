package ntk

import (
	"math"
	"math/rand/v2"
	"unsafe"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// DefaultDensity is the Sparse family's density when HashConfig.Density is 0.
const DefaultDensity = 1.0 / 32

// sparseMinNNZ is the fewest non-zeros a sparse factor gets (all of them
// when its dimension is smaller).
const sparseMinNNZ = 8

// sparseNNZ returns the non-zeros of a sparse factor of dimension dim.
func sparseNNZ(dim int, density float64) int {
	k := int(math.Ceil(density * float64(dim)))
	return min(dim, max(k, sparseMinNNZ))
}

// sparseProjector is the structured family with very sparse factors (Li,
// Hastie & Church 2006): projection j of layer l's block G = [δ h^T, δ] is
// u_j^T G [v_j; vb_j] with u_j (m_l) and [v_j; vb_j] (m_{l−1}+1) each
// holding k non-zeros ±√(dim/k) at k distinct random positions (unit
// variance per entry, as the Gaussian factors), k = max(⌈density·dim⌉, 8)
// capped at dim. A point costs O(K·L·Σ(k_u+k_v)) gathers instead of
// O(K·L·Σ(m_l+m_{l−1})) multiply-adds, and the query O(K·L·Σ k_u·k_v).
type sparseProjector struct {
	m      *nn.MLP
	kl     int
	layers []int
	// Per layer (index 0 unused): ku, kv non-zeros per projection of u and
	// of v (the positions in h; the bias coordinate is vb), their positions
	// iu (KL × ku), iv (KL × kv) and values su, sv; vb (KL) is the bias
	// coordinate of [v; vb], 0 when not drawn.
	ku, kv []int
	iu, iv [][]int32
	su, sv [][]float32
	vb     [][]float32
}

// drawSparse draws k distinct positions of [0, dim) and signs ±scale.
func drawSparse(rng *rand.Rand, dim, k int, idx []int32, val []float32) {
	scale := float32(math.Sqrt(float64(dim) / float64(k)))
	// Floyd's algorithm: k distinct positions without a dim-sized buffer.
	chosen := make(map[int32]bool, k)
	n := 0
	for j := dim - k; j < dim; j++ {
		t := int32(rng.IntN(j + 1))
		if chosen[t] {
			t = int32(j)
		}
		chosen[t] = true
		idx[n] = t
		n++
	}
	for t := range idx[:k] {
		val[t] = scale
		if rng.IntN(2) == 0 {
			val[t] = -scale
		}
	}
}

func newSparse(m *nn.MLP, kl int, density float64, lastOnly bool, rng *rand.Rand) *sparseProjector {
	if density <= 0 {
		density = DefaultDensity
	}
	L := m.Layers()
	p := &sparseProjector{m: m, kl: kl, ku: make([]int, L+1), kv: make([]int, L+1), iu: make([][]int32, L+1), iv: make([][]int32, L+1),
		su: make([][]float32, L+1), sv: make([][]float32, L+1), vb: make([][]float32, L+1)}
	for l := 1; l <= L; l++ {
		w, in := m.Sizes[l], m.Sizes[l-1]
		ku, kv := sparseNNZ(w, density), sparseNNZ(in+1, density)
		p.ku[l] = ku
		p.iu[l], p.su[l] = make([]int32, kl*ku), make([]float32, kl*ku)
		p.iv[l], p.sv[l] = make([]int32, kl*kv), make([]float32, kl*kv)
		p.vb[l] = make([]float32, kl)
		tmpI, tmpV := make([]int32, kv), make([]float32, kv)
		n := 0
		for j := 0; j < kl; j++ {
			drawSparse(rng, w, ku, p.iu[l][j*ku:(j+1)*ku], p.su[l][j*ku:(j+1)*ku])
			// [v; vb]: position in is the bias coordinate.
			drawSparse(rng, in+1, kv, tmpI, tmpV)
			for t, c := range tmpI {
				if int(c) == in {
					p.vb[l][j] = tmpV[t]
					continue
				}
				p.iv[l][n], p.sv[l][n] = c, tmpV[t]
				n++
			}
			// Pad to kv per projection with zero weights at position 0 so
			// that rows stay fixed-width.
			for n < (j+1)*kv {
				p.iv[l][n], p.sv[l][n] = 0, 0
				n++
			}
		}
		p.kv[l] = kv
		if !lastOnly || l == L {
			p.layers = append(p.layers, l)
		}
	}
	return p
}

// factors returns projection j of layer l's dense u (m_l), v (m_{l−1}) and
// vb, for references.
func (p *sparseProjector) factors(l, j int) (u, v []float32, vb float32) {
	w, in := p.m.Sizes[l], p.m.Sizes[l-1]
	u, v = make([]float32, w), make([]float32, in)
	ku, kv := p.ku[l], p.kv[l]
	for t := j * ku; t < (j+1)*ku; t++ {
		u[p.iu[l][t]] += p.su[l][t]
	}
	for t := j * kv; t < (j+1)*kv; t++ {
		v[p.iv[l][t]] += p.sv[l][t]
	}
	return u, v, p.vb[l][j]
}

func (p *sparseProjector) addBatch(_ kernels.Backend, b *nn.Batch, out []float32, _ *projScratch) {
	n, kl, m := b.N, p.kl, p.m
	for _, l := range p.layers {
		w, in := m.Sizes[l], m.Sizes[l-1]
		ku, kv := p.ku[l], p.kv[l]
		iu, su, iv, sv, vb := p.iu[l], p.su[l], p.iv[l], p.sv[l], p.vb[l]
		for i := 0; i < n; i++ {
			d := b.D[l][i*w : (i+1)*w]
			h := b.H[l-1][i*in : (i+1)*in]
			o := out[i*kl : (i+1)*kl]
			for j := range o {
				pu := gatherDot(d, iu[j*ku:(j+1)*ku], su[j*ku:(j+1)*ku])
				if pu == 0 {
					continue
				}
				o[j] += pu * (vb[j] + gatherDot(h, iv[j*kv:(j+1)*kv], sv[j*kv:(j+1)*kv]))
			}
		}
	}
}

// gatherDot returns Σ_t val[t]·x[idx[t]], summed in order t = 0, 1, …;
// every idx[t] must be a valid index of x (the projector draws them so),
// which lets the loop skip the bounds checks.
func gatherDot(x []float32, idx []int32, val []float32) float32 {
	if len(idx) == 0 {
		return 0
	}
	val = val[:len(idx)]
	base := unsafe.Pointer(unsafe.SliceData(x))
	var s float32
	for t, c := range idx {
		s += val[t] * *(*float32)(unsafe.Add(base, uintptr(c)*4))
	}
	return s
}

func (p *sparseProjector) params(_ kernels.Backend, v []float32, out []float32, _ *projScratch) {
	kl, m := p.kl, p.m
	clear(out[:kl])
	for _, l := range p.layers {
		in := m.Sizes[l-1]
		W, bias := m.WOf(v, l), m.BOf(v, l)
		ku, kv := p.ku[l], p.kv[l]
		iu, su, iv, sv, vb := p.iu[l], p.su[l], p.iv[l], p.sv[l], p.vb[l]
		for j := 0; j < kl; j++ {
			jv, jt := iv[j*kv:(j+1)*kv], sv[j*kv:(j+1)*kv]
			var s float32
			for t, r := range iu[j*ku : (j+1)*ku] {
				row := W[int(r)*in : (int(r)+1)*in]
				q := vb[j] * bias[r]
				for tv, c := range jv {
					q += jt[tv] * row[c]
				}
				s += su[j*ku+t] * q
			}
			out[j] += s
		}
	}
}
