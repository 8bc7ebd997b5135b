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
	wRNG := rand.New(rand.NewPCG(cfg.Seed, 1))
	xRNG := rand.New(rand.NewPCG(cfg.Seed, 2))
	noiseRNG := rand.New(rand.NewPCG(cfg.Seed, 3))

	w1 := make([]float64, cfg.Hidden*cfg.D) // Hidden×D
	for i := range w1 {
		w1[i] = wRNG.NormFloat64() / math.Sqrt(float64(cfg.D))
	}
	w2 := make([]float64, cfg.O*cfg.Hidden) // O×Hidden
	for i := range w2 {
		w2[i] = wRNG.NormFloat64() / math.Sqrt(float64(cfg.Hidden))
	}

	scale := 1.0
	if cfg.TailDOF > 2 {
		scale = math.Sqrt((cfg.TailDOF - 2) / cfg.TailDOF)
	}
	d := &Dataset{
		Name: "teacher", N: cfg.N, D: cfg.D, O: cfg.O,
		X: make([]float32, cfg.N*cfg.D),
		Y: make([]float32, cfg.N*cfg.O),
	}
	xs := make([]float64, cfg.D)
	h := make([]float64, cfg.Hidden)
	for n := 0; n < cfg.N; n++ {
		row := d.X[n*cfg.D : (n+1)*cfg.D]
		for i := range row {
			var v float64
			if cfg.TailDOF > 0 {
				v = scale * studentT(xRNG, cfg.TailDOF)
			} else {
				v = xRNG.NormFloat64()
			}
			row[i] = float32(v)
			if !isFinite32(row[i]) {
				return nil, fmt.Errorf("data: teacher: input %v overflows float32 (TailDOF=%v)", v, cfg.TailDOF)
			}
			xs[i] = float64(row[i])
		}
		for j := range h {
			s := 0.0
			for i, w := range w1[j*cfg.D : (j+1)*cfg.D] {
				s += w * xs[i]
			}
			h[j] = math.Tanh(s)
		}
		for o := 0; o < cfg.O; o++ {
			s := 0.0
			for j, w := range w2[o*cfg.Hidden : (o+1)*cfg.Hidden] {
				s += w * h[j]
			}
			d.Y[n*cfg.O+o] = float32(s + cfg.Noise*noiseRNG.NormFloat64())
		}
	}
	return d, nil
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
