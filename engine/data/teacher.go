package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// TeacherConfig configures the synthetic teacher dataset.
type TeacherConfig struct {
	N, D, Hidden, O int // points, inputs, teacher hidden units, outputs
	// TailDOF is the degrees of freedom of the Student-t input
	// coordinates; TailDOF <= 0 means Gaussian inputs. It must otherwise
	// be >= 1 (below that the samples overflow float32). For TailDOF > 2
	// the inputs are scaled to unit variance.
	TailDOF float64
	Noise   float64 // std of the Gaussian label noise, >= 0
	Seed    uint64
}

// DefaultTeacher returns N=20000, D=32, Hidden=64, O=1, TailDOF=3,
// Noise=0.1, Seed=1.
func DefaultTeacher() TeacherConfig {
	return TeacherConfig{N: 20000, D: 32, Hidden: 64, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}
}

// Validate reports the first invalid field of c.
func (c TeacherConfig) Validate() error {
	switch {
	case c.N <= 0 || c.D <= 0 || c.Hidden <= 0 || c.O <= 0:
		return fmt.Errorf("data: teacher: sizes must be positive, got N=%d D=%d Hidden=%d O=%d", c.N, c.D, c.Hidden, c.O)
	case c.N > math.MaxInt32/c.D || c.N > math.MaxInt32/c.O:
		return fmt.Errorf("data: teacher: N×D=%d×%d or N×O=%d×%d too large", c.N, c.D, c.N, c.O)
	case math.IsNaN(c.TailDOF) || math.IsInf(c.TailDOF, 0) || c.TailDOF > 0 && c.TailDOF < 1:
		return fmt.Errorf("data: teacher: TailDOF=%v, want <= 0 (Gaussian) or a finite value >= 1", c.TailDOF)
	case !(c.Noise >= 0) || math.IsInf(c.Noise, 0):
		return fmt.Errorf("data: teacher: Noise=%v, want a finite value >= 0", c.Noise)
	}
	return nil
}

// Teacher generates the built-in synthetic dataset. A random teacher MLP
// (D inputs → Hidden tanh units → O linear outputs, no biases, float64,
// weights drawn N(0, 1/fan_in)) labels inputs whose coordinates are
// independent Student-t with TailDOF degrees of freedom (scaled to unit
// variance when TailDOF > 2; Gaussian when TailDOF <= 0), and Gaussian noise
// of std Noise is added to the labels. Labels are computed from the inputs
// as stored (rounded to float32).
//
// Weights, inputs and noise come from three PCG streams seeded by Seed, so
// the dataset is deterministic for a seed and the first n points do not
// depend on N.
func Teacher(cfg TeacherConfig) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	net := newTeacherNet(rand.New(rand.NewPCG(cfg.Seed, 1)), cfg.D, cfg.Hidden, cfg.O)
	xRNG := rand.New(rand.NewPCG(cfg.Seed, 2))
	noiseRNG := rand.New(rand.NewPCG(cfg.Seed, 3))

	d := &Dataset{
		Name: "teacher", N: cfg.N, D: cfg.D, O: cfg.O,
		X: make([]float32, cfg.N*cfg.D),
		Y: make([]float32, cfg.N*cfg.O),
	}
	xs := make([]float64, cfg.D)
	out := make([]float64, cfg.O)
	for n := 0; n < cfg.N; n++ {
		if err := drawInput(xRNG, cfg.TailDOF, d.X[n*cfg.D:(n+1)*cfg.D], xs); err != nil {
			return nil, err
		}
		net.forward(xs, out)
		for o, s := range out {
			d.Y[n*cfg.O+o] = float32(s + cfg.Noise*noiseRNG.NormFloat64())
		}
	}
	return d, nil
}

// teacherNet is the teacher MLP: D inputs → Hidden tanh units → O linear
// outputs, no biases, float64, weights drawn N(0, 1/fan_in).
type teacherNet struct {
	d, hidden int
	w1, w2    []float64 // Hidden×D, O×Hidden
	h         []float64 // scratch
}

// newTeacherNet draws the first layer's weights, then the second's, from r.
func newTeacherNet(r *rand.Rand, d, hidden, o int) *teacherNet {
	t := &teacherNet{d: d, hidden: hidden, w1: make([]float64, hidden*d), w2: make([]float64, o*hidden), h: make([]float64, hidden)}
	for i := range t.w1 {
		t.w1[i] = r.NormFloat64() / math.Sqrt(float64(d))
	}
	for i := range t.w2 {
		t.w2[i] = r.NormFloat64() / math.Sqrt(float64(hidden))
	}
	return t
}

// forward writes the teacher's outputs at xs (len D) to out (len O).
func (t *teacherNet) forward(xs, out []float64) {
	for j := range t.h {
		s := 0.0
		for i, w := range t.w1[j*t.d : (j+1)*t.d] {
			s += w * xs[i]
		}
		t.h[j] = math.Tanh(s)
	}
	for o := range out {
		s := 0.0
		for j, w := range t.w2[o*t.hidden : (o+1)*t.hidden] {
			s += w * t.h[j]
		}
		out[o] = s
	}
}

// drawInput fills row (float32) and xs (its float64 values) with
// independent Student-t(tail) coordinates, scaled to unit variance when
// tail > 2, or Gaussian ones when tail <= 0.
func drawInput(r *rand.Rand, tail float64, row []float32, xs []float64) error {
	scale := 1.0
	if tail > 2 {
		scale = math.Sqrt((tail - 2) / tail)
	}
	for i := range row {
		var v float64
		if tail > 0 {
			v = scale * studentT(r, tail)
		} else {
			v = r.NormFloat64()
		}
		row[i] = float32(v)
		if !isFinite32(row[i]) {
			return fmt.Errorf("data: teacher: input %v overflows float32 (TailDOF=%v)", v, tail)
		}
		xs[i] = float64(row[i])
	}
	return nil
}

// studentT draws a Student-t variate with nu degrees of freedom:
// Z / sqrt(V/nu) with V ~ chi²(nu) = Gamma(nu/2, scale 2).
func studentT(r *rand.Rand, nu float64) float64 {
	z := r.NormFloat64()
	v := 2 * gammaVariate(r, nu/2)
	return z / math.Sqrt(v/nu)
}

// gammaVariate draws Gamma(shape a, scale 1) by Marsaglia & Tsang (2000),
// with the a<1 boost Gamma(a) = Gamma(a+1)·U^(1/a).
func gammaVariate(r *rand.Rand, a float64) float64 {
	if a < 1 {
		u := r.Float64()
		for u == 0 {
			u = r.Float64()
		}
		return gammaVariate(r, a+1) * math.Pow(u, 1/a)
	}
	d := a - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
