package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
)

// ClassTeacherConfig configures the synthetic classification teacher.
type ClassTeacherConfig struct {
	N, D, Hidden, Classes int // points, inputs, teacher hidden units, classes
	// TailDOF is as in TeacherConfig: Student-t input coordinates (unit
	// variance for TailDOF > 2), Gaussian when <= 0, otherwise >= 1.
	TailDOF float64
	// Sharpness multiplies the teacher's logits (an inverse temperature):
	// 0 gives labels independent of the inputs, larger values cleaner
	// labels (a lower Bayes error).
	Sharpness float64
	// Imbalance is the ratio of the most to the least frequent class, >= 1:
	// the class frequencies are π_c ∝ Imbalance^(−c/(Classes−1)), class 0
	// the most frequent.
	Imbalance float64
	Seed      uint64
}

// DefaultClassTeacher returns N=20000, D=16, Hidden=32, Classes=5,
// TailDOF=3, Sharpness=4, Imbalance=10, Seed=1.
func DefaultClassTeacher() ClassTeacherConfig {
	return ClassTeacherConfig{N: 20000, D: 16, Hidden: 32, Classes: 5, TailDOF: 3, Sharpness: 4, Imbalance: 10, Seed: 1}
}

// maxClasses bounds ClassTeacherConfig.Classes (the calibration holds
// 4096 × Classes logits and refits them up to 200 times).
const maxClasses = 256

// Validate reports the first invalid field of c.
func (c ClassTeacherConfig) Validate() error {
	switch {
	case c.N <= 0 || c.D <= 0 || c.Hidden <= 0:
		return fmt.Errorf("data: class teacher: sizes must be positive, got N=%d D=%d Hidden=%d", c.N, c.D, c.Hidden)
	case c.Classes < 2 || c.Classes > maxClasses:
		return fmt.Errorf("data: class teacher: Classes=%d, want 2..%d", c.Classes, maxClasses)
	case c.N > math.MaxInt32/c.D || c.N > math.MaxInt32/c.Classes:
		return fmt.Errorf("data: class teacher: N×D=%d×%d or N×Classes=%d×%d too large", c.N, c.D, c.N, c.Classes)
	case math.IsNaN(c.TailDOF) || math.IsInf(c.TailDOF, 0) || c.TailDOF > 0 && c.TailDOF < 1:
		return fmt.Errorf("data: class teacher: TailDOF=%v, want <= 0 (Gaussian) or a finite value >= 1", c.TailDOF)
	case !(c.Sharpness >= 0 && c.Sharpness <= 1e3):
		return fmt.Errorf("data: class teacher: Sharpness=%v, want a value in [0, 1000]", c.Sharpness)
	case !(c.Imbalance >= 1 && c.Imbalance <= 1e6):
		return fmt.Errorf("data: class teacher: Imbalance=%v, want a value in [1, 1e6]", c.Imbalance)
	}
	return nil
}

// Priors returns the class frequencies π_c ∝ Imbalance^(−c/(Classes−1)).
func (c ClassTeacherConfig) Priors() []float64 {
	p := make([]float64, c.Classes)
	s := 0.0
	for k := range p {
		p[k] = math.Pow(c.Imbalance, -float64(k)/float64(c.Classes-1))
		s += p[k]
	}
	for k := range p {
		p[k] /= s
	}
	return p
}

// calibrationPoints is the size of the input sample that fits the class
// biases; it comes from its own stream, so the biases do not depend on N.
const calibrationPoints = 4096

// classTeacher is the labelling model: teacher logits Sharpness·g(x) + b.
type classTeacher struct {
	net   *teacherNet
	sharp float64
	bias  []float64
}

// newClassTeacher draws the teacher network and fits the biases b so that
// the mean softmax probability of every class over a calibration sample
// equals its prior (iterative proportional fitting, b_c += log(π_c/q_c),
// which converges to the intercepts' maximum-likelihood fixed point).
func newClassTeacher(cfg ClassTeacherConfig) (*classTeacher, error) {
	t := &classTeacher{net: newTeacherNet(rand.New(rand.NewPCG(cfg.Seed, 1)), cfg.D, cfg.Hidden, cfg.Classes), sharp: cfg.Sharpness}
	pi := cfg.Priors()
	t.bias = make([]float64, cfg.Classes)
	for k, p := range pi {
		t.bias[k] = math.Log(p)
	}
	cRNG := rand.New(rand.NewPCG(cfg.Seed, 4))
	m := calibrationPoints
	g := make([]float64, m*cfg.Classes) // Sharpness·g(x), without the bias
	row := make([]float32, cfg.D)
	xs := make([]float64, cfg.D)
	for n := 0; n < m; n++ {
		if err := drawInput(cRNG, cfg.TailDOF, row, xs); err != nil {
			return nil, err
		}
		t.net.forward(xs, g[n*cfg.Classes:(n+1)*cfg.Classes])
		for k := range cfg.Classes {
			g[n*cfg.Classes+k] *= cfg.Sharpness
		}
	}
	q := make([]float64, cfg.Classes)
	p := make([]float64, cfg.Classes)
	for range 200 {
		clear(q)
		for n := 0; n < m; n++ {
			copy(p, g[n*cfg.Classes:(n+1)*cfg.Classes])
			t.softmax(p)
			for k, v := range p {
				q[k] += v / float64(m)
			}
		}
		worst := 0.0
		for k := range q {
			d := math.Log(pi[k] / q[k])
			t.bias[k] += d
			worst = math.Max(worst, math.Abs(d))
		}
		if worst < 1e-9 {
			break
		}
	}
	return t, nil
}

// softmax replaces z (the scaled logits without bias) with softmax(z + b).
func (t *classTeacher) softmax(z []float64) {
	mx := math.Inf(-1)
	for k := range z {
		z[k] += t.bias[k]
		mx = math.Max(mx, z[k])
	}
	s := 0.0
	for k := range z {
		z[k] = math.Exp(z[k] - mx)
		s += z[k]
	}
	for k := range z {
		z[k] /= s
	}
}

// probs writes the teacher's class probabilities at xs to p.
func (t *classTeacher) probs(xs, p []float64) {
	t.net.forward(xs, p)
	for k := range p {
		p[k] *= t.sharp
	}
	t.softmax(p)
}

// ClassTeacher generates the built-in synthetic classification dataset.
// A random teacher MLP (D inputs → Hidden tanh units → Classes outputs, no
// biases, float64, weights N(0, 1/fan_in), as in Teacher) gives logits
// z(x) = Sharpness·g(x) + b at inputs drawn as in Teacher, and each label
// is sampled from softmax(z(x)) (so the labels are noisy: the Bayes
// classifier argmax z errs with probability E[1 − max softmax]). The class
// biases b are fitted on a separate sample of 4096 inputs so that the class
// frequencies are Priors(): skewed geometrically, the most frequent class
// Imbalance times the least frequent. Targets are one-hot (Y is
// N×Classes), Classes holds 0..Classes−1 and the name is "class-teacher".
//
// Weights, inputs, labels and the calibration sample come from four PCG
// streams seeded by Seed: the dataset is deterministic for a seed and the
// first n points do not depend on N.
func ClassTeacher(cfg ClassTeacherConfig) (*Dataset, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t, err := newClassTeacher(cfg)
	if err != nil {
		return nil, err
	}
	xRNG := rand.New(rand.NewPCG(cfg.Seed, 2))
	yRNG := rand.New(rand.NewPCG(cfg.Seed, 3))
	C := cfg.Classes
	d := &Dataset{Name: "class-teacher", N: cfg.N, D: cfg.D, O: C, X: make([]float32, cfg.N*cfg.D), Y: make([]float32, cfg.N*C),
		Classes: make([]float64, C), TargetNames: make([]string, C)}
	for k := range C {
		d.Classes[k] = float64(k)
		d.TargetNames[k] = "class=" + strconv.Itoa(k)
	}
	xs := make([]float64, cfg.D)
	p := make([]float64, C)
	for n := 0; n < cfg.N; n++ {
		if err := drawInput(xRNG, cfg.TailDOF, d.X[n*cfg.D:(n+1)*cfg.D], xs); err != nil {
			return nil, err
		}
		t.probs(xs, p)
		u, k := yRNG.Float64(), 0
		for ; k < C-1; k++ {
			if u -= p[k]; u < 0 {
				break
			}
		}
		d.Y[n*C+k] = 1
	}
	return d, nil
}
