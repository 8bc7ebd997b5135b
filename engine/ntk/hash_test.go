package ntk

import (
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// explicitR returns the K·L × P projection matrix a projector applies, as
// float64 rows.
func explicitR(m *nn.MLP, h *Hasher) [][]float64 {
	P := m.NumParams()
	R := make([][]float64, h.kl)
	for j := range R {
		R[j] = make([]float64, P)
		switch p := h.proj.(type) {
		case *denseProjector:
			for k := 0; k < P; k++ {
				R[j][k] = float64(p.r[j*P+k])
			}
		case *structuredProjector:
			for _, l := range p.layers {
				w, in := m.Sizes[l], m.Sizes[l-1]
				wb := m.WOf(make([]float32, P), l)
				_ = wb
				off := 0
				for ll := 1; ll < l; ll++ {
					off += m.Sizes[ll]*m.Sizes[ll-1] + m.Sizes[ll]
				}
				for r := 0; r < w; r++ {
					u := float64(p.u[l][j*w+r])
					for c := 0; c < in; c++ {
						R[j][off+r*in+c] = u * float64(p.vh[l][j*in+c])
					}
					R[j][off+w*in+r] = u * float64(p.vb[l][j])
				}
			}
		case *sparseProjector:
			for _, l := range p.layers {
				w, in := m.Sizes[l], m.Sizes[l-1]
				off := 0
				for ll := 1; ll < l; ll++ {
					off += m.Sizes[ll]*m.Sizes[ll-1] + m.Sizes[ll]
				}
				u, v, vb := p.factors(l, j)
				for r := 0; r < w; r++ {
					for c := 0; c < in; c++ {
						R[j][off+r*in+c] = float64(u[r]) * float64(v[c])
					}
					R[j][off+w*in+r] = float64(u[r]) * float64(vb)
				}
			}
		}
	}
	return R
}

func gradOf(be kernels.Backend, m *nn.MLP, params, x []float32) []float64 {
	b := m.NewBatch(1)
	b.Forward(be, params, x, 1)
	b.BackwardOnes(be, params)
	g := make([]float32, m.NumParams())
	b.AccumulateGrad(be, g)
	out := make([]float64, len(g))
	for i, v := range g {
		out[i] = float64(v)
	}
	return out
}

func dot64(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// TestHashCodesMatchExplicitVectors builds v_i and q explicitly in float64
// and checks the engine's codes bit by bit, and that q·v_i is
// |a_i|(f_lin(x_i,w) − y_i).
func TestHashCodesMatchExplicitVectors(t *testing.T) {
	be := testBackend
	for _, fam := range []Family{Structured, Dense, Sparse} {
		for _, q := range []QueryMode{QueryPaper, QueryRecentred} {
			for _, mips := range []bool{false, true} {
				for _, variant := range []int{1, 2, 3} {
					out, lastOnly := variant, false
					if variant == 3 {
						out, lastOnly = 1, true
					}
					hidden := 6
					if fam == Sparse {
						hidden = 40 // wide enough that the factors are sparse
					}
					m, _ := nn.New(nn.Config{In: 4, Out: out, Hidden: []int{hidden}, Activation: nn.Tanh, Seed: 3})
					rng := rand.New(rand.NewPCG(1, 2))
					n := 40
					x := make([]float32, n*4)
					y := make([]float32, n*out)
					for i := range x {
						x[i] = float32(rng.NormFloat64())
					}
					for i := range y {
						y[i] = float32(rng.NormFloat64())
					}
					h, err := NewHasher(m, HashConfig{K: 6, L: 5, Family: fam, MIPS: mips, Query: q, Alpha: 0.3, Seed: 4, LastLayerOnly: lastOnly, Density: 0.1})
					if err != nil {
						t.Fatal(err)
					}
					lin := Rehash(be, m, x, y, n, h, RehashOptions{Batch: 7, Workers: 3}, nil)
					R := explicitR(m, h)
					// Move w away from w0.
					w := append([]float32(nil), m.Params...)
					for i := range w {
						w[i] += float32(0.05 * rng.NormFloat64())
					}
					var qv []float64
					if q == QueryRecentred {
						for i := range w {
							qv = append(qv, float64(w[i]-lin.W0[i])/h.Cfg.Alpha)
						}
						qv = append(qv, 1)
					} else {
						for i := range w {
							qv = append(qv, float64(w[i]))
						}
						qv = append(qv, -1)
					}
					mismatch, total := 0, 0
					for i := 0; i < n; i++ {
						a := gradOf(be, m, lin.W0, x[i*4:(i+1)*4])
						an := math.Sqrt(dot64(a, a))
						var ys float64
						for o := 0; o < out; o++ {
							ys += float64(y[i*out+o])
						}
						bi := lin.F0[i] - dot64(a, to64(lin.W0))
						if math.Abs(bi-lin.B[i]) > 1e-4*(1+math.Abs(bi)) || math.Abs(an-lin.ANorm[i]) > 1e-5*an {
							t.Fatalf("point %d: b=%g |a|=%g, want %g %g", i, lin.B[i], lin.ANorm[i], bi, an)
						}
						if lastOnly {
							// Only the output layer's block is hashed: a and w
							// are restricted to it, and b is relative to it.
							start := len(a) - (m.Sizes[m.Layers()-1]+1)*out
							clear(a[:start])
							bi = lin.F0[i] - dot64(a, to64(lin.W0))
							if math.Abs(bi-lin.BHash[i]) > 1e-4*(1+math.Abs(bi)) {
								t.Fatalf("point %d: last-layer b=%g, want %g", i, lin.BHash[i], bi)
							}
						}
						var v []float64
						if q == QueryRecentred {
							for _, av := range a {
								v = append(v, h.Cfg.Alpha*av*an)
							}
							v = append(v, (lin.F0[i]-ys)*an)
						} else {
							for _, av := range a {
								v = append(v, av*an)
							}
							v = append(v, (ys-bi)*an)
						}
						// q·v = |a|(f_lin − y) with f_lin = b + a·w.
						flin := bi + dot64(a, to64(w))
						if got, want := dot64(qv, v), an*(flin-ys); !lastOnly && math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
							t.Fatalf("q·v = %g, want |a|(f_lin−y) = %g", got, want)
						}
						nv := math.Sqrt(dot64(v, v))
						for j := 0; j < h.kl; j++ {
							pj := dot64(R[j], v[:len(v)-1]) + float64(h.c[j])*v[len(v)-1]
							if lastOnly && j == 0 && i == 0 {
								// R must see nothing outside the output layer.
								for k := 0; k < len(a)-(m.Sizes[m.Layers()-1]+1)*out; k++ {
									if R[j][k] != 0 {
										t.Fatalf("%v: R has a nonzero entry in a hidden layer", fam)
									}
								}
							}
							if mips {
								pj = pj/lin.M + float64(h.e[j])*math.Sqrt(math.Max(0, 1-nv*nv/(lin.M*lin.M)))
							}
							bit := lin.Codes[i*h.Cfg.L+j/h.Cfg.K]>>(j%h.Cfg.K)&1 == 1
							total++
							if bit != (pj > 0) && math.Abs(pj) > 1e-4 {
								mismatch++
							}
						}
					}
					if mismatch > 0 {
						t.Errorf("%v/%v/mips=%v/out=%d/last=%v: %d of %d data bits differ from the explicit projection", fam, q, mips, out, lastOnly, mismatch, total)
					}
					// Query codes.
					codes := make([]uint32, h.Cfg.L)
					delta := make([]float32, len(w))
					for i := range delta {
						delta[i] = w[i] - lin.W0[i]
					}
					h.QueryCodes(be, w, delta, h.NewQueryScratch(m), codes)
					for j := 0; j < h.kl; j++ {
						pj := dot64(R[j], qv[:len(qv)-1]) + float64(h.c[j])*qv[len(qv)-1]
						bit := codes[j/h.Cfg.K]>>(j%h.Cfg.K)&1 == 1
						if bit != (pj > 0) && math.Abs(pj) > 1e-4 {
							t.Errorf("%v/%v: query bit %d differs", fam, q, j)
						}
					}
					if math.Abs(lin.M-maxVNorm(be, m, lin, h)) > 1e-9 {
						t.Error("M mismatch")
					}
				}
			}
		}
	}
}

func maxVNorm(be kernels.Backend, m *nn.MLP, lin *Linearization, h *Hasher) float64 {
	var mx float64
	for i := 0; i < lin.N; i++ {
		_, _, n2 := h.dataVector(lin, i)
		mx = math.Max(mx, math.Sqrt(n2))
	}
	return mx
}

func to64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func TestHashConfigValidate(t *testing.T) {
	for _, c := range []HashConfig{{K: 0, L: 1}, {K: 17, L: 1}, {K: 4, L: 0}, {K: 4, L: 513}, {K: 4, L: 4, Query: QueryRecentred, Alpha: 0}} {
		if c.Validate() == nil {
			t.Errorf("%+v: expected an error", c)
		}
	}
}

// TestResidentProjectionsMatchTwoPasses: keeping the raw projections of
// every point (one pass) gives the same codes and numbers, bit for bit, as
// recomputing them in a second pass.
func TestResidentProjectionsMatchTwoPasses(t *testing.T) {
	m, _ := nn.New(nn.Config{In: 5, Out: 2, Hidden: []int{9, 7}, Activation: nn.ReLU, Seed: 2})
	ds := smallTeacher(300, 5, 2, 4)
	for _, q := range []QueryMode{QueryPaper, QueryRecentred} {
		h, err := NewHasher(m, HashConfig{K: 3, L: 6, MIPS: true, Query: q, Alpha: 0.1, SignSymmetric: true, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		// Progress is called from the worker goroutines.
		var calls [2]atomic.Int64
		one := Rehash(testBackend, m, ds.X, ds.Y, ds.N, h, RehashOptions{Batch: 32, Workers: 2, Progress: func(d, tot int) { calls[0].Store(int64(tot)) }}, nil)
		two := Rehash(testBackend, m, ds.X, ds.Y, ds.N, h, RehashOptions{Batch: 32, Workers: 2, MaxResidentBytes: -1, Progress: func(d, tot int) { calls[1].Store(int64(tot)) }}, nil)
		if one.rawProj == nil || two.rawProj != nil {
			t.Fatal("the resident path was not the one taken")
		}
		if calls[0].Load() != int64(ds.N) || calls[1].Load() != int64(2*ds.N) {
			t.Errorf("progress totals %d and %d, want %d and %d", calls[0].Load(), calls[1].Load(), ds.N, 2*ds.N)
		}
		for i, c := range one.Codes {
			if c != two.Codes[i] {
				t.Fatalf("%v: code %d differs: %d vs %d", q, i, c, two.Codes[i])
			}
		}
		if one.M != two.M {
			t.Errorf("M %g vs %g", one.M, two.M)
		}
	}
}

// TestSparseFactors: every sparse factor has its stated number of
// non-zeros, at distinct positions, of magnitude √(dim/k) (unit variance
// per entry), and the explicit R has the matching density.
func TestSparseFactors(t *testing.T) {
	m, _ := nn.New(nn.Config{In: 30, Out: 1, Hidden: []int{200}, Activation: nn.ReLU, Seed: 1})
	h, err := NewHasher(m, HashConfig{K: 2, L: 8, Family: Sparse, Density: 1.0 / 16, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	p := h.proj.(*sparseProjector)
	for l := 1; l <= m.Layers(); l++ {
		w, in := m.Sizes[l], m.Sizes[l-1]
		if want := sparseNNZ(w, 1.0/16); p.ku[l] != want {
			t.Errorf("layer %d: %d non-zeros in u, want %d", l, p.ku[l], want)
		}
		for j := 0; j < h.kl; j++ {
			u, v, vb := p.factors(l, j)
			nu, nv := 0, 0
			for _, x := range u {
				if x != 0 {
					nu++
					if want := math.Sqrt(float64(w) / float64(p.ku[l])); math.Abs(math.Abs(float64(x))-want) > 1e-5*want {
						t.Fatalf("u entry %g, want ±%g", x, want)
					}
				}
			}
			for _, x := range v {
				if x != 0 {
					nv++
				}
			}
			if vb != 0 {
				nv++
			}
			if nu != p.ku[l] || nv != p.kv[l] {
				t.Fatalf("layer %d projection %d: %d and %d non-zeros, want %d and %d (dims %d, %d)", l, j, nu, nv, p.ku[l], p.kv[l], w, in+1)
			}
		}
	}
	if _, err := ParseFamily("sparse"); err != nil {
		t.Error(err)
	}
	if (HashConfig{K: 1, L: 1, Family: Sparse, Density: 2}).Validate() == nil {
		t.Error("density 2 accepted")
	}
}
