package data

import (
	"math"
	"slices"
	"testing"
)

// classOf returns the class of one-hot row i.
func classOf(d *Dataset, i int) int {
	return slices.Index(d.YRow(i), 1)
}

func TestClassTeacherDeterministicOneHot(t *testing.T) {
	cfg := ClassTeacherConfig{N: 600, D: 5, Hidden: 7, Classes: 4, TailDOF: 3, Sharpness: 3, Imbalance: 5, Seed: 9}
	a, err := ClassTeacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	if a.N != 600 || a.D != 5 || a.O != 4 || !slices.Equal(a.Classes, []float64{0, 1, 2, 3}) || a.Name != "class-teacher" {
		t.Fatalf("shape %d×%d→%d classes %v name %q", a.N, a.D, a.O, a.Classes, a.Name)
	}
	for i := range a.N {
		var s float32
		for _, v := range a.YRow(i) {
			if v != 0 && v != 1 {
				t.Fatalf("row %d: target %v not one-hot", i, a.YRow(i))
			}
			s += v
		}
		if s != 1 {
			t.Fatalf("row %d: target %v not one-hot", i, a.YRow(i))
		}
	}
	b, _ := ClassTeacher(cfg)
	if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) {
		t.Fatal("same seed, different data")
	}
	cfg.N = 100
	p, _ := ClassTeacher(cfg)
	if !slices.Equal(p.X, a.X[:100*5]) || !slices.Equal(p.Y, a.Y[:100*4]) {
		t.Fatal("first 100 points depend on N")
	}
	// The inputs are Teacher's (same streams, same distribution).
	r, _ := Teacher(TeacherConfig{N: 100, D: 5, Hidden: 7, O: 4, TailDOF: 3, Seed: 9})
	if !slices.Equal(r.X, p.X) {
		t.Fatal("inputs differ from Teacher's")
	}
}

// TestClassTeacherFrequencies: the class frequencies match the skewed
// priors (chi-square test at N = 40000), and the priors have the asked
// imbalance.
func TestClassTeacherFrequencies(t *testing.T) {
	cfg := ClassTeacherConfig{N: 40000, D: 8, Hidden: 16, Classes: 5, TailDOF: 3, Sharpness: 4, Imbalance: 10, Seed: 3}
	pi := cfg.Priors()
	if r := pi[0] / pi[4]; math.Abs(r-10) > 1e-9 {
		t.Fatalf("prior imbalance %g, want 10", r)
	}
	d, err := ClassTeacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	count := make([]float64, cfg.Classes)
	for i := range d.N {
		count[classOf(d, i)]++
	}
	chi2 := 0.0
	for k, c := range count {
		e := pi[k] * float64(d.N)
		chi2 += (c - e) * (c - e) / e
	}
	// 4 degrees of freedom: P(χ² > 23.5) ≈ 1e-4. The biases are fitted on
	// another sample of 4096 inputs, which adds a little spread.
	if chi2 > 23.5 {
		t.Errorf("class counts %v, priors %v: chi-square %.1f", count, pi, chi2)
	}
}

// TestClassTeacherLabelsFollowTeacher: the labels are samples of the
// teacher's softmax: on the dataset's own inputs, the mean log-likelihood
// of the labels under the teacher matches its expectation E Σ p log p
// (within 5 standard errors), is far above the priors' (the labels depend
// on x), and at Sharpness 0 the labels are independent of x.
func TestClassTeacherLabelsFollowTeacher(t *testing.T) {
	cfg := ClassTeacherConfig{N: 8000, D: 6, Hidden: 12, Classes: 3, TailDOF: 0, Sharpness: 5, Imbalance: 4, Seed: 5}
	d, err := ClassTeacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := newClassTeacher(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pi := cfg.Priors()
	xs := make([]float64, cfg.D)
	p := make([]float64, cfg.Classes)
	var ll, ll2, want, prior float64
	for i := range d.N {
		for j, v := range d.XRow(i) {
			xs[j] = float64(v)
		}
		tt.probs(xs, p)
		l := math.Log(p[classOf(d, i)])
		ll += l
		ll2 += l * l
		for _, v := range p {
			if v > 0 {
				want += v * math.Log(v)
			}
		}
		prior += math.Log(pi[classOf(d, i)])
	}
	n := float64(d.N)
	ll, want, prior = ll/n, want/n, prior/n
	se := math.Sqrt((ll2/n - ll*ll) / n)
	if math.Abs(ll-want) > 5*se {
		t.Errorf("label log-likelihood %.4f, expected %.4f (se %.4f)", ll, want, se)
	}
	if ll < prior+0.2 {
		t.Errorf("labels barely depend on x: log-likelihood %.4f vs priors' %.4f", ll, prior)
	}
	cfg.Sharpness = 0
	z, _ := newClassTeacher(cfg)
	z.probs(xs, p)
	for k := range p {
		if math.Abs(p[k]-pi[k]) > 1e-6 {
			t.Errorf("sharpness 0: p %v, want the priors %v", p, pi)
		}
	}
}

func TestClassTeacherValidate(t *testing.T) {
	ok := DefaultClassTeacher()
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*ClassTeacherConfig){
		func(c *ClassTeacherConfig) { c.Classes = 1 },
		func(c *ClassTeacherConfig) { c.Classes = maxClasses + 1 },
		func(c *ClassTeacherConfig) { c.N = 0 },
		func(c *ClassTeacherConfig) { c.Imbalance = 0.5 },
		func(c *ClassTeacherConfig) { c.Imbalance = math.NaN() },
		func(c *ClassTeacherConfig) { c.Sharpness = -1 },
		func(c *ClassTeacherConfig) { c.Sharpness = math.Inf(1) },
		func(c *ClassTeacherConfig) { c.TailDOF = 0.5 },
		func(c *ClassTeacherConfig) { c.N, c.D = math.MaxInt32, 2 },
	} {
		c := ok
		f(&c)
		if _, err := ClassTeacher(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
