package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/kernels"
)

// forward64 is the float64 reference forward pass over one example.
func forward64(m *MLP, p []float64, x []float64) []float64 {
	h := x
	for l := 1; l <= m.Layers(); l++ {
		out, in := m.Sizes[l], m.Sizes[l-1]
		z := make([]float64, out)
		for j := 0; j < out; j++ {
			s := p[m.offB[l]+j]
			for k := 0; k < in; k++ {
				s += p[m.offW[l]+j*in+k] * h[k]
			}
			z[j] = s
		}
		if l < m.Layers() {
			for j := range z {
				if m.Activation == ReLU {
					z[j] = math.Max(z[j], 0)
				} else {
					z[j] = math.Tanh(z[j])
				}
			}
		}
		h = z
	}
	return h
}

func to64(v []float32) []float64 {
	o := make([]float64, len(v))
	for i, x := range v {
		o[i] = float64(x)
	}
	return o
}

func randData(rng *rand.Rand, n, d int) []float32 {
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

func relErr(a, b []float64) float64 {
	var num, den float64
	for i := range a {
		num += (a[i] - b[i]) * (a[i] - b[i])
		den += b[i] * b[i]
	}
	return math.Sqrt(num / math.Max(den, 1e-300))
}

var testConfigs = []Config{
	{In: 3, Out: 1, Seed: 1},                                           // linear model
	{In: 4, Out: 1, Hidden: []int{5}, Activation: Tanh, Seed: 2},       // one hidden layer
	{In: 3, Out: 2, Hidden: []int{6, 4}, Activation: Tanh, Seed: 3},    // two hidden, two outputs
	{In: 5, Out: 3, Hidden: []int{7, 3, 4}, Activation: ReLU, Seed: 4}, // relu, three hidden
}

func backends(t *testing.T) []kernels.Backend {
	var bs []kernels.Backend
	for _, n := range kernels.Names() {
		if b, _, err := kernels.Select(n); err == nil {
			bs = append(bs, b)
		}
	}
	return bs
}

// TestGradientFiniteDifferences checks the batched gradient of the mean loss
// against central differences of a float64 reference.
func TestGradientFiniteDifferences(t *testing.T) {
	for _, be := range backends(t) {
		for _, cfg := range testConfigs {
			m, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(9, uint64(len(cfg.Hidden))))
			for i := range m.Params {
				m.Params[i] += float32(0.1 * rng.NormFloat64()) // nonzero biases
			}
			n := 7
			x := randData(rng, n, cfg.In)
			y := randData(rng, n, cfg.Out)
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			r := make([]float32, n*cfg.Out)
			for i, f := range b.Output() {
				r[i] = (f - y[i]) / float32(n)
			}
			b.Backward(be, m.Params, r)
			grad := make([]float32, m.NumParams())
			b.AccumulateGrad(be, grad)

			p64 := to64(m.Params)
			loss := func(p []float64) float64 {
				var s float64
				for i := 0; i < n; i++ {
					f := forward64(m, p, to64(x[i*cfg.In:(i+1)*cfg.In]))
					for o := range f {
						d := f[o] - float64(y[i*cfg.Out+o])
						s += 0.5 * d * d
					}
				}
				return s / float64(n)
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
				t.Errorf("%s %v: gradient relative error %.3g vs finite differences", be.Name(), m, e)
			}
		}
	}
}

// perExampleGrad returns ∂s_i/∂w for example i as float64, by a batch of one.
func perExampleGrad(be kernels.Backend, m *MLP, x, dOut []float32) []float64 {
	b := m.NewBatch(1)
	b.Forward(be, m.Params, x, 1)
	b.Backward(be, m.Params, dOut)
	g := make([]float32, m.NumParams())
	b.AccumulateGrad(be, g)
	return to64(g)
}

func TestPerExampleNormsAndLinearization(t *testing.T) {
	for _, be := range backends(t) {
		for _, cfg := range testConfigs {
			m, _ := New(cfg)
			rng := rand.New(rand.NewPCG(5, 6))
			for i := range m.Params {
				m.Params[i] += float32(0.1 * rng.NormFloat64())
			}
			n := 9
			x := randData(rng, n, cfg.In)
			ones := make([]float32, n*cfg.Out)
			for i := range ones {
				ones[i] = 1
			}
			b := m.NewBatch(n + 3)
			b.Forward(be, m.Params, x, n)
			fsum := make([]float64, n)
			for i := 0; i < n; i++ {
				for o := 0; o < cfg.Out; o++ {
					fsum[i] += float64(b.Output()[i*cfg.Out+o])
				}
			}
			b.BackwardOnes(be, m.Params)
			sq := make([]float64, n)
			dz := make([]float64, n)
			b.GradSqNorms(be, sq)
			b.DeltaDotZ(be, dz)
			p64 := to64(m.Params)
			for i := 0; i < n; i++ {
				a := perExampleGrad(be, m, x[i*cfg.In:(i+1)*cfg.In], ones[:cfg.Out])
				var norm2, aw float64
				for j, v := range a {
					norm2 += v * v
					aw += v * p64[j]
				}
				if math.Abs(sq[i]-norm2) > 1e-5*norm2 {
					t.Errorf("%s %v: |a_%d|² = %g, want %g", be.Name(), m, i, sq[i], norm2)
				}
				// a·w: for the linear model it equals f; in general b = f − a·w.
				if math.Abs(dz[i]-aw) > 1e-5*(math.Abs(aw)+1) {
					t.Errorf("%s %v: a_%d·w = %g, want %g", be.Name(), m, i, dz[i], aw)
				}
				if len(cfg.Hidden) == 0 && math.Abs(dz[i]-fsum[i]) > 1e-5*(math.Abs(fsum[i])+1) {
					t.Errorf("linear model: a·w = %g should equal f = %g", dz[i], fsum[i])
				}
			}
		}
	}
}

func TestJVPFiniteDifferences(t *testing.T) {
	for _, be := range backends(t) {
		for _, cfg := range testConfigs {
			m, _ := New(cfg)
			rng := rand.New(rand.NewPCG(7, 8))
			n := 5
			x := randData(rng, n, cfg.In)
			tan := randData(rng, m.NumParams(), 1)
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			out := make([]float32, n*cfg.Out)
			b.JVP(be, m.Params, tan, out)
			p64 := to64(m.Params)
			t64 := to64(tan)
			const h = 1e-6
			var fd []float64
			for i := 0; i < n; i++ {
				pp := make([]float64, len(p64))
				pm := make([]float64, len(p64))
				for j := range p64 {
					pp[j] = p64[j] + h*t64[j]
					pm[j] = p64[j] - h*t64[j]
				}
				xi := to64(x[i*cfg.In : (i+1)*cfg.In])
				fp, fm := forward64(m, pp, xi), forward64(m, pm, xi)
				for o := range fp {
					fd = append(fd, (fp[o]-fm[o])/(2*h))
				}
			}
			if e := relErr(to64(out), fd); e > 1e-4 {
				t.Errorf("%s %v: JVP relative error %.3g", be.Name(), m, e)
			}
		}
	}
}

func TestForwardMatchesFloat64(t *testing.T) {
	for _, cfg := range testConfigs {
		m, _ := New(cfg)
		rng := rand.New(rand.NewPCG(1, 2))
		n := 11
		x := randData(rng, n, cfg.In)
		b := m.NewBatch(16)
		b.Forward(kernels.Generic, m.Params, x, n)
		var want []float64
		for i := 0; i < n; i++ {
			want = append(want, forward64(m, to64(m.Params), to64(x[i*cfg.In:(i+1)*cfg.In]))...)
		}
		if e := relErr(to64(b.Output()), want); e > 1e-6 {
			t.Errorf("%v: forward relative error %.3g", m, e)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{{In: 0, Out: 1}, {In: 1, Out: 0}, {In: 1, Out: 1, Hidden: []int{0}}, {In: 1, Out: 1, Hidden: []int{MaxWidth + 1}},
		{In: 1, Out: 1, Activation: 7}, {In: 1 << 20, Out: 1, Hidden: []int{1 << 20}}}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: expected an error", c)
		}
	}
	m, err := New(Config{In: 2, Out: 1, Hidden: []int{3}, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := New(Config{In: 2, Out: 1, Hidden: []int{3}, Seed: 5})
	for i := range m.Params {
		if m.Params[i] != m2.Params[i] {
			t.Fatal("same seed gave different parameters")
		}
	}
	if m.NumParams() != 2*3+3+3+1 {
		t.Fatalf("NumParams = %d", m.NumParams())
	}
}
