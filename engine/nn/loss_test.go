package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// xent64 is −Σ_o y_o log softmax(f)_o in float64, computed the textbook
// way (exponentials normalized, then the log), independent of Softmax.
func xent64(f, y []float64) float64 {
	var z float64
	for _, v := range f {
		z += math.Exp(v)
	}
	var l float64
	for o, v := range f {
		l -= y[o] * math.Log(math.Exp(v)/z)
	}
	return l
}

// TestXentGradientFiniteDifferences checks the weighted xent gradient
// (Loss.Residual's ∂ℓ/∂f = p − y through Backward) against central finite
// differences of a float64 reference, on every architecture and backend,
// with soft (probability) targets as well as one-hot ones.
func TestXentGradientFiniteDifferences(t *testing.T) {
	for _, be := range backends(t) {
		for _, cfg := range testConfigs {
			if cfg.Out < 2 {
				cfg.Out = 3
			}
			cfg.Loss = Xent
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(11, uint64(len(cfg.Hidden))))
			for i := range m.Params {
				m.Params[i] += float32(0.3 * rng.NormFloat64())
			}
			n := 7
			x := randData(rng, n, cfg.In)
			y := make([]float32, n*cfg.Out)
			wt := make([]float64, n)
			for i := 0; i < n; i++ {
				wt[i] = 0.5 + rng.Float64()
				if i%2 == 0 {
					y[i*cfg.Out+rng.IntN(cfg.Out)] = 1
					continue
				}
				var s float32
				for o := 0; o < cfg.Out; o++ {
					y[i*cfg.Out+o] = rng.Float32()
					s += y[i*cfg.Out+o]
				}
				for o := 0; o < cfg.Out; o++ {
					y[i*cfg.Out+o] /= s
				}
			}
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			r := make([]float32, n*cfg.Out)
			p := make([]float64, cfg.Out)
			f := b.Output()
			var got float64
			for i := 0; i < n; i++ {
				s := wt[i] / float64(n)
				fi, yi := f[i*cfg.Out:(i+1)*cfg.Out], y[i*cfg.Out:(i+1)*cfg.Out]
				l := m.Loss.Residual(fi, yi, float32(s), r[i*cfg.Out:(i+1)*cfg.Out], p)
				if v := m.Loss.Value(fi, yi, p); math.Abs(v-l) > 1e-12 {
					t.Fatalf("Value %g, Residual's loss %g", v, l)
				}
				got += s * l
			}
			b.Backward(be, m.Params, r)
			grad := make([]float32, m.NumParams())
			b.AccumulateGrad(be, grad)

			p64 := to64(m.Params)
			loss := func(p []float64) float64 {
				var s float64
				for i := 0; i < n; i++ {
					f := forward64(m, p, to64(x[i*cfg.In:(i+1)*cfg.In]))
					s += wt[i] * xent64(f, to64(y[i*cfg.Out:(i+1)*cfg.Out]))
				}
				return s / float64(n)
			}
			if want := loss(p64); math.Abs(got-want) > 1e-5*(1+want) {
				t.Errorf("%s %v: weighted loss %g, float64 reference %g", be.Name(), m, got, want)
			}
			fd := make([]float64, len(p64))
			const h = 1e-6
			for j := range p64 {
				old := p64[j]
				p64[j] = old + h
				lp := loss(p64)
				p64[j] = old - h
				lm := loss(p64)
				p64[j] = old
				fd[j] = (lp - lm) / (2 * h)
			}
			if e := relErr(to64(grad), fd); e > 1e-4 {
				t.Errorf("%s %v: xent gradient relative error %.3g vs finite differences", be.Name(), m, e)
			}
		}
	}
}

// TestSoftmaxStable: huge logits neither overflow nor lose the loss.
func TestSoftmaxStable(t *testing.T) {
	p := make([]float64, 3)
	f := []float32{1000, 999, -1000}
	lse := Softmax(f, p)
	if math.IsInf(lse, 0) || math.IsNaN(lse) || math.Abs(p[0]+p[1]+p[2]-1) > 1e-12 || math.Abs(lse-(1000+math.Log(1+math.Exp(-1)))) > 1e-9 {
		t.Fatalf("softmax of %v: p %v, logsumexp %g", f, p, lse)
	}
	if l := Xent.Value(f, []float32{0, 0, 1}, p); math.Abs(l-(lse+1000)) > 1e-9 {
		t.Fatalf("xent of the unlikely class %g, want %g", l, lse+1000)
	}
	r := make([]float32, 3)
	Xent.Residual(f, []float32{0, 1, 0}, 1, r, p)
	if math.Abs(float64(r[0]+r[1]+r[2])) > 1e-6 {
		t.Fatalf("Σ_o (p − y)_o = %g, want 0", r[0]+r[1]+r[2])
	}
}

func TestLossParseValidate(t *testing.T) {
	for s, want := range map[string]Loss{"": MSE, "mse": MSE, "xent": Xent, "cross-entropy": Xent} {
		if l, err := ParseLoss(s); err != nil || l != want {
			t.Errorf("ParseLoss(%q) = %v, %v", s, l, err)
		}
	}
	if _, err := ParseLoss("hinge"); err == nil {
		t.Error("hinge parsed")
	}
	if err := (Config{In: 2, Out: 1, Loss: Xent}).Validate(); err == nil {
		t.Error("xent with one output validated")
	}
	if err := (Config{In: 2, Out: 2, Loss: Xent}).Validate(); err != nil {
		t.Error(err)
	}
}
