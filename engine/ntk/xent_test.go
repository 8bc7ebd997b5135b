package ntk

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/internal/testset"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// forward64 is the model's forward pass in float64 at parameters p.
func forward64(m *nn.MLP, p []float64, x []float32) []float64 {
	h := make([]float64, len(x))
	for i, v := range x {
		h[i] = float64(v)
	}
	for l := 1; l <= m.Layers(); l++ {
		w, in := m.Sizes[l], m.Sizes[l-1]
		wo, bo := m.WeightOffset(l), m.BiasOffset(l)
		z := make([]float64, w)
		for r := 0; r < w; r++ {
			s := p[bo+r]
			for c := 0; c < in; c++ {
				s += p[wo+r*in+c] * h[c]
			}
			if l < m.Layers() {
				if m.Activation == nn.Tanh {
					s = math.Tanh(s)
				} else {
					s = math.Max(0, s)
				}
			}
			z[r] = s
		}
		h = z
	}
	return h
}

// jacobian64 forms J = ∂f/∂w (Out × P) of one example explicitly, by
// central differences of forward64.
func jacobian64(m *nn.MLP, p []float64, x []float32) [][]float64 {
	J := make([][]float64, m.Out)
	for o := range J {
		J[o] = make([]float64, len(p))
	}
	q := append([]float64(nil), p...)
	const e = 1e-6
	for k := range p {
		q[k] = p[k] + e
		fp := forward64(m, q, x)
		q[k] = p[k] - e
		fm := forward64(m, q, x)
		q[k] = p[k]
		for o := range J {
			J[o][k] = (fp[o] - fm[o]) / (2 * e)
		}
	}
	return J
}

func softmax64(f []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range f {
		mx = math.Max(mx, v)
	}
	p := make([]float64, len(f))
	var s float64
	for o, v := range f {
		p[o] = math.Exp(v - mx)
		s += p[o]
	}
	for o := range p {
		p[o] /= s
	}
	return p
}

// jt returns Jᵀ v.
func jt(J [][]float64, v []float64) []float64 {
	g := make([]float64, len(J[0]))
	for o, row := range J {
		for k, x := range row {
			g[k] += v[o] * x
		}
	}
	return g
}

func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*(1+math.Abs(b)) }

// xentExplicit holds, for one point at w0, the explicitly formed
// quantities of xent.go's derivation (S = I for MSE).
type xentExplicit struct {
	g, a, c []float64 // Jᵀr, Jᵀu, JᵀSu
	rho     float64
	u, y    []float64
}

// outputs64 is ∂ℓ/∂f + y: softmax(f) under nn.Xent, f itself under MSE.
func outputs64(loss nn.Loss, f []float64) []float64 {
	if loss == nn.Xent {
		return softmax64(f)
	}
	return f
}

func explicitResidual(m *nn.MLP, loss nn.Loss, w0 []float64, x, y []float32) xentExplicit {
	f := forward64(m, w0, x)
	p := outputs64(loss, f)
	J := jacobian64(m, w0, x)
	var e xentExplicit
	r := make([]float64, len(f))
	e.y = make([]float64, len(f))
	for o := range f {
		e.y[o] = float64(y[o])
		r[o] = p[o] - e.y[o]
		e.rho += r[o] * r[o]
	}
	e.rho = math.Sqrt(e.rho)
	e.u = make([]float64, len(f))
	var pu float64
	for o := range r {
		e.u[o] = r[o] / e.rho
		pu += p[o] * e.u[o]
	}
	su := make([]float64, len(f))
	for o := range su {
		if loss == nn.Xent {
			su[o] = p[o]*e.u[o] - p[o]*pu // (diag(p) − ppᵀ) u
		} else {
			su[o] = e.u[o] // S = I
		}
	}
	e.g, e.a, e.c = jt(J, r), jt(J, e.u), jt(J, su)
	return e
}

// TestXentLinearizationMatchesExplicit checks every per-point number a
// rehash keeps under xent — ntk-static's exact norms at w0 among them —
// against per-example gradients formed explicitly from float64 Jacobians,
// the codes bit by bit against the explicit hashed vectors, and the
// passes (exact norms, losses, residuals, q·v) at a w away from w0.
func TestXentLinearizationMatchesExplicit(t *testing.T) {
	checkResidualLinearization(t, nn.Xent, testset.SmallClassTeacher(testBackend, 30, 4, 3, 3))
}

// checkResidualLinearization is TestXentLinearizationMatchesExplicit for
// loss over ds (30 points, 4 inputs, 3 outputs), the rehash asked for
// ResidualDirection (which nn.Xent always gets).
func checkResidualLinearization(t *testing.T, loss nn.Loss, ds *data.Dataset) {
	t.Helper()
	be := testBackend
	const n, d, O = 30, 4, 3
	x, y := ds.X, ds.Y
	for _, q := range []QueryMode{QueryPaper, QueryRecentred} {
		for _, mips := range []bool{false, true} {
			for _, act := range []nn.Activation{nn.Tanh, nn.ReLU} {
				m, _ := nn.New(nn.Config{In: d, Out: O, Hidden: []int{6}, Activation: act, Seed: 5, Loss: loss})
				h, err := NewHasher(m, HashConfig{K: 5, L: 6, Family: Dense, MIPS: mips, Query: q, Alpha: 0.3, Seed: 4})
				if err != nil {
					t.Fatal(err)
				}
				lin := Rehash(be, m, x, y, n, h, RehashOptions{Batch: 7, Workers: 3, MultiOutput: ResidualDirection}, nil)
				if !lin.Residual() {
					t.Fatalf("%v: the rehash did not keep the residual-direction quantities", loss)
				}
				w0 := to64(lin.W0)
				R := explicitR(m, h)
				rng := rand.New(rand.NewPCG(9, 9))
				w := append([]float32(nil), m.Params...)
				delta := make([]float32, len(w))
				for i := range w {
					w[i] += float32(0.03 * rng.NormFloat64())
					delta[i] = w[i] - lin.W0[i]
				}
				qv := make([]float64, 0, len(w)+1)
				for i := range w {
					if q == QueryRecentred {
						qv = append(qv, float64(delta[i])/h.Cfg.Alpha)
					} else {
						qv = append(qv, float64(w[i]))
					}
				}
				if q == QueryRecentred {
					qv = append(qv, 1)
				} else {
					qv = append(qv, -1)
				}
				ps := NewPasses(be, m, x, y, n, 8, 2)
				linv := make([]float64, n)
				ps.Linearized(lin, delta, nil, linv)
				gn, ls, rs := make([]float64, n), make([]float64, n), make([]float64, n)
				ps.GradNorms(w, nil, gn)
				ps.Losses(w, nil, ls)
				ps.Residuals(w, nil, rs)
				mismatch := 0
				for i := 0; i < n; i++ {
					xi, yi := x[i*d:(i+1)*d], y[i*O:(i+1)*O]
					e := explicitResidual(m, loss, w0, xi, yi)
					gnorm := math.Sqrt(dot64(e.g, e.g))
					an, cn := math.Sqrt(dot64(e.a, e.a)), math.Sqrt(dot64(e.c, e.c))
					bi := e.rho - dot64(e.c, w0)
					if !near(lin.GradNorm0[i], gnorm, 1e-4) {
						t.Fatalf("point %d: GradNorm0 %g, explicit |Jᵀ(p−y)| %g", i, lin.GradNorm0[i], gnorm)
					}
					if !near(lin.ANorm[i], an, 1e-4) || !near(lin.AHash[i], cn, 1e-4) || !near(lin.F0[i], e.rho, 1e-5) || lin.YSum[i] != 0 || !near(lin.B[i], bi, 1e-4) {
						t.Fatalf("point %d: |a| %g |c| %g ρ %g b %g, explicit %g %g %g %g", i, lin.ANorm[i], lin.AHash[i], lin.F0[i], lin.B[i], an, cn, e.rho, bi)
					}
					// The hashed vector and q·v = |a|(ρ + c·δ).
					v := make([]float64, 0, len(w)+1)
					for _, cv := range e.c {
						if q == QueryRecentred {
							v = append(v, h.Cfg.Alpha*cv*an)
						} else {
							v = append(v, cv*an)
						}
					}
					if q == QueryRecentred {
						v = append(v, e.rho*an)
					} else {
						v = append(v, -bi*an)
					}
					want := an * (e.rho + dot64(e.c, to64(delta)))
					if got := dot64(qv, v); !near(got, want, 1e-6) {
						t.Fatalf("q·v = %g, want |a|(ρ + c·δ) = %g", got, want)
					}
					if !near(linv[i], want, 1e-4) {
						t.Fatalf("point %d: Passes.Linearized %g, explicit |a|(ρ + c·δ) %g", i, linv[i], want)
					}
					nv := math.Sqrt(dot64(v, v))
					for j := 0; j < h.kl; j++ {
						pj := dot64(R[j], v[:len(v)-1]) + float64(h.c[j])*v[len(v)-1]
						if mips {
							pj = pj/lin.M + float64(h.e[j])*math.Sqrt(math.Max(0, 1-nv*nv/(lin.M*lin.M)))
						}
						bit := lin.Codes[i*h.Cfg.L+j/h.Cfg.K]>>(j%h.Cfg.K)&1 == 1
						if bit != (pj > 0) && math.Abs(pj) > 1e-4 {
							mismatch++
						}
					}
					// The passes at w against the explicit quantities at w.
					f := forward64(m, to64(w), xi)
					p := outputs64(loss, f)
					J := jacobian64(m, to64(w), xi)
					r := make([]float64, O)
					var lse, ce, rn float64
					mx := math.Inf(-1)
					for _, v := range f {
						mx = math.Max(mx, v)
					}
					for o := range f {
						lse += math.Exp(f[o] - mx)
					}
					lse = mx + math.Log(lse)
					for o := range f {
						r[o] = p[o] - e.y[o]
						ce += e.y[o] * (lse - f[o])
						rn += r[o] * r[o]
					}
					if loss != nn.Xent {
						ce = rn / 2 // the MSE loss ½|f − y|²
					}
					g := jt(J, r)
					if !near(gn[i], math.Sqrt(dot64(g, g)), 1e-4) || !near(ls[i], ce, 1e-5) || !near(rs[i], math.Sqrt(rn), 1e-5) {
						t.Fatalf("point %d at w: grad norm %g loss %g residual %g, explicit %g %g %g", i, gn[i], ls[i], rs[i], math.Sqrt(dot64(g, g)), ce, math.Sqrt(rn))
					}
				}
				if mismatch > 0 {
					t.Errorf("%v/mips=%v/%v: %d data bits differ from the explicit projections of |a|·[c, ρ]", q, mips, act, mismatch)
				}
				if math.Abs(lin.M-maxVNorm(be, m, lin, h)) > 1e-9 {
					t.Error("M mismatch")
				}
			}
		}
	}
}

// TestXentLinearizedFirstOrder: q·v = |a|(ρ + c·δ) is |a|·u·(p(w) − y)
// to first order in δ (the error falls 4× when δ halves), and at δ = 0 it
// is the exact gradient norm at w0; |a|·|u·r(w)| is itself within the
// residual-direction approximation of the linearized model's norm.
func TestXentLinearizedFirstOrder(t *testing.T) {
	checkResidualFirstOrder(t, nn.Xent, testset.SmallClassTeacher(testBackend, 20, 3, 4, 8))
}

// checkResidualFirstOrder is TestXentLinearizedFirstOrder for loss over
// ds (20 points, 3 inputs, 4 outputs) under ResidualDirection.
func checkResidualFirstOrder(t *testing.T, loss nn.Loss, ds *data.Dataset) {
	t.Helper()
	be := testBackend
	const n, d, O = 20, 3, 4
	m, _ := nn.New(nn.Config{In: d, Out: O, Hidden: []int{5}, Activation: nn.Tanh, Seed: 2, Loss: loss})
	lin := Rehash(be, m, ds.X, ds.Y, n, nil, RehashOptions{Batch: 8, Workers: 1, MultiOutput: ResidualDirection}, nil)
	ps := NewPasses(be, m, ds.X, ds.Y, n, 8, 1)
	P := m.NumParams()
	dir := make([]float64, P)
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range dir {
		dir[i] = rng.NormFloat64()
	}
	zero := make([]float32, P)
	out := make([]float64, n)
	ps.Linearized(lin, zero, nil, out)
	for i := 0; i < n; i++ {
		if !near(out[i], lin.GradNorm0[i], 1e-5) {
			t.Fatalf("point %d: q·v at δ = 0 is %g, GradNorm0 %g", i, out[i], lin.GradNorm0[i])
		}
	}
	errAt := func(eps float64) float64 {
		delta := make([]float32, P)
		w := make([]float64, P)
		for k := range delta {
			delta[k] = float32(eps * dir[k])
			w[k] = float64(lin.W0[k]) + float64(delta[k])
		}
		ps.Linearized(lin, delta, nil, out)
		var worst float64
		for i := 0; i < n; i++ {
			e := explicitResidual(m, loss, to64(lin.W0), ds.X[i*d:(i+1)*d], ds.Y[i*O:(i+1)*O])
			p := outputs64(loss, forward64(m, w, ds.X[i*d:(i+1)*d]))
			var ur float64
			for o := range p {
				ur += e.u[o] * (p[o] - e.y[o])
			}
			an := math.Sqrt(dot64(e.a, e.a))
			worst = math.Max(worst, math.Abs(out[i]-an*ur))
		}
		return worst
	}
	e1, e2 := errAt(0.02), errAt(0.01)
	if ratio := e1 / e2; !(ratio > 3 && ratio < 5.5) {
		t.Errorf("q·v − |a|·u·r(w): %g at ε, %g at ε/2 (ratio %g, want ≈ 4: second order)", e1, e2, ratio)
	}
}
