package data

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// moments returns the mean, variance and kurtosis (not excess) of v.
func moments(v []float32) (mean, variance, kurt float64) {
	for _, x := range v {
		mean += float64(x)
	}
	mean /= float64(len(v))
	var m2, m4 float64
	for _, x := range v {
		d := float64(x) - mean
		m2 += d * d
		m4 += d * d * d * d
	}
	m2 /= float64(len(v))
	m4 /= float64(len(v))
	return mean, m2, m4 / (m2 * m2)
}

func TestTeacherDeterministicAndValid(t *testing.T) {
	cfg := TeacherConfig{N: 500, D: 6, Hidden: 10, O: 3, TailDOF: 3, Noise: 0.1, Seed: 42}
	a, err := Teacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.Name != "teacher" || a.N != 500 || a.D != 6 || a.O != 3 {
		t.Fatalf("shape %+v", a)
	}
	b, _ := Teacher(cfg)
	if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
		t.Fatal("same seed, different data")
	}
	cfg.Seed = 43
	c, _ := Teacher(cfg)
	if slices.Equal(a.X, c.X) || slices.Equal(a.Y, c.Y) {
		t.Fatal("different seeds, same data")
	}
	// A prefix does not depend on N.
	cfg.Seed, cfg.N = 42, 100
	p, _ := Teacher(cfg)
	if !slices.Equal(p.X, a.X[:100*6]) || !slices.Equal(p.Y, a.Y[:100*3]) {
		t.Fatal("first 100 points depend on N")
	}
	// Labels are a function of the inputs: without noise, varying only the
	// noise changes Y but not X, and the noise-free labels are bounded by
	// the teacher's output weights (|tanh| <= 1).
	cfg.N, cfg.Noise = 500, 0
	q, _ := Teacher(cfg)
	if !slices.Equal(q.X, a.X) || slices.Equal(q.Y, a.Y) {
		t.Fatal("noise should change only the labels")
	}
	var sumAbsDiff float64
	for k := range q.Y {
		sumAbsDiff += math.Abs(float64(a.Y[k] - q.Y[k]))
	}
	// Mean |N(0, 0.1²)| = 0.1·sqrt(2/π) ≈ 0.0798.
	if m := sumAbsDiff / float64(len(q.Y)); math.Abs(m-0.0798) > 0.01 {
		t.Errorf("mean |label noise| = %v, want ≈ 0.0798", m)
	}
	_, yVar, _ := moments(q.Y)
	if yVar < 0.05 || yVar > 1 {
		t.Errorf("noise-free label variance %v outside [0.05, 1]: teacher degenerate?", yVar)
	}
}

func TestTeacherTails(t *testing.T) {
	n := 20000
	if testing.Short() {
		n = 5000
	}
	cases := []struct {
		dof            float64
		kurtLo, kurtHi float64
		varLo, varHi   float64
	}{
		// Gaussian kurtosis is 3; sample of 32·N values.
		{dof: 0, kurtLo: 2.9, kurtHi: 3.1, varLo: 0.98, varHi: 1.02},
		// t5: kurtosis 3 + 6/(5-4) = 9 (sample estimate is noisy, biased low).
		{dof: 5, kurtLo: 5, kurtHi: 20, varLo: 0.9, varHi: 1.1},
		// t3: infinite kurtosis; variance 1 after scaling but converges slowly.
		{dof: 3, kurtLo: 10, kurtHi: math.Inf(1), varLo: 0.7, varHi: 1.5},
	}
	for _, tc := range cases {
		cfg := DefaultTeacher()
		cfg.N, cfg.TailDOF = n, tc.dof
		d, err := Teacher(cfg)
		if err != nil {
			t.Fatal(err)
		}
		mean, variance, kurt := moments(d.X)
		t.Logf("TailDOF=%v N=%d: input mean %.4f variance %.4f kurtosis %.2f", tc.dof, n, mean, variance, kurt)
		if math.Abs(mean) > 0.02 || variance < tc.varLo || variance > tc.varHi || kurt < tc.kurtLo || kurt > tc.kurtHi {
			t.Errorf("TailDOF=%v: mean %v variance %v kurtosis %v, want |mean|<0.02, variance in [%v,%v], kurtosis in [%v,%v]",
				tc.dof, mean, variance, kurt, tc.varLo, tc.varHi, tc.kurtLo, tc.kurtHi)
		}
	}
}

// TestStudentTSampler compares the empirical CDF of studentT with gonum's
// (Kolmogorov–Smirnov distance), including nu < 2 where Gamma(nu/2) uses
// the shape < 1 branch.
func TestStudentTSampler(t *testing.T) {
	const n = 40000
	for _, nu := range []float64{1, 1.5, 3, 7.5, 30} {
		r := rand.New(rand.NewPCG(11, uint64(nu*10)))
		v := make([]float64, n)
		for i := range v {
			v[i] = studentT(r, nu)
		}
		slices.Sort(v)
		dist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: nu}
		ks := 0.0
		for i, x := range v {
			f := dist.CDF(x)
			ks = max(ks, math.Abs(f-float64(i)/n), math.Abs(f-float64(i+1)/n))
		}
		// The 0.1% critical value of the KS statistic is 1.95/sqrt(n) ≈ 0.0098.
		if ks > 1.95/math.Sqrt(n) {
			t.Errorf("nu=%v: KS distance %v to Student-t exceeds %v", nu, ks, 1.95/math.Sqrt(n))
		}
	}
}

func TestTeacherConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*TeacherConfig)
		want string
	}{
		{func(c *TeacherConfig) { c.N = 0 }, "sizes must be positive"},
		{func(c *TeacherConfig) { c.D = -1 }, "sizes must be positive"},
		{func(c *TeacherConfig) { c.Hidden = 0 }, "sizes must be positive"},
		{func(c *TeacherConfig) { c.O = 0 }, "sizes must be positive"},
		{func(c *TeacherConfig) { c.N, c.D = 1<<30, 1<<10 }, "too large"},
		{func(c *TeacherConfig) { c.TailDOF = 0.5 }, "TailDOF=0.5"},
		{func(c *TeacherConfig) { c.TailDOF = math.NaN() }, "TailDOF=NaN"},
		{func(c *TeacherConfig) { c.Noise = -1 }, "Noise=-1"},
		{func(c *TeacherConfig) { c.Noise = math.Inf(1) }, "Noise=+Inf"},
	} {
		cfg := DefaultTeacher()
		tc.mod(&cfg)
		if _, err := Teacher(cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
	if d := DefaultTeacher(); d != (TeacherConfig{N: 20000, D: 32, Hidden: 64, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}) {
		t.Errorf("DefaultTeacher() = %+v", d)
	}
	// Cauchy inputs (TailDOF=1, the heaviest allowed) stay finite.
	cfg := DefaultTeacher()
	cfg.N, cfg.TailDOF = 2000, 1
	d, err := Teacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}
