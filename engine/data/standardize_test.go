package data

import (
	"math"
	"strings"
	"testing"
)

// refStats is a straightforward float64 reference: mean and population std.
func refStats(v []float32, n, cols, j int) (mean, std float64) {
	for i := 0; i < n; i++ {
		mean += float64(v[i*cols+j])
	}
	mean /= float64(n)
	for i := 0; i < n; i++ {
		d := float64(v[i*cols+j]) - mean
		std += d * d
	}
	return mean, math.Sqrt(std / float64(n))
}

func TestStandardizer(t *testing.T) {
	d, err := Teacher(TeacherConfig{N: 3000, D: 5, Hidden: 8, O: 2, TailDOF: 4, Noise: 0.1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	// Give columns different offsets/scales and one constant column.
	for i := 0; i < d.N; i++ {
		row := d.XRow(i)
		row[0] = row[0]*1000 + 5e4
		row[1] = row[1]*1e-3 - 7
		row[4] = 42
		d.Y[i*2] = d.Y[i*2]*300 + 2000
	}
	orig := d.Subset(seq(d.N))
	s := FitStandardizer(d, true)
	for j := 0; j < d.D; j++ {
		m, sd := refStats(d.X, d.N, d.D, j)
		if j == 4 {
			if s.XMean[j] != 42 || s.XStd[j] != 1 || sd != 0 {
				t.Errorf("constant column: mean %v std %v (ref std %v), want 42 1", s.XMean[j], s.XStd[j], sd)
			}
			continue
		}
		if math.Abs(s.XMean[j]-m) > 1e-9*math.Max(1, math.Abs(m)) || math.Abs(s.XStd[j]-sd) > 1e-9*sd {
			t.Errorf("feature %d: mean %v std %v, reference %v %v", j, s.XMean[j], s.XStd[j], m, sd)
		}
	}
	if err := s.Apply(d); err != nil {
		t.Fatal(err)
	}
	for j := 0; j < d.D; j++ {
		m, sd := refStats(d.X, d.N, d.D, j)
		wantSD := 1.0
		if j == 4 {
			wantSD = 0 // constant column maps to all zeros
		}
		if math.Abs(m) > 1e-5 || math.Abs(sd-wantSD) > 1e-5 {
			t.Errorf("after Apply feature %d: mean %v std %v, want 0 %v", j, m, sd, wantSD)
		}
	}
	for j := 0; j < d.O; j++ {
		m, sd := refStats(d.Y, d.N, d.O, j)
		if math.Abs(m) > 1e-5 || math.Abs(sd-1) > 1e-5 {
			t.Errorf("after Apply target %d: mean %v std %v, want 0 1", j, m, sd)
		}
	}
	s.UnapplyY(d.Y)
	for k := range d.Y {
		if diff := math.Abs(float64(d.Y[k] - orig.Y[k])); diff > 1e-6*math.Max(1, math.Abs(float64(orig.Y[k]))) {
			t.Fatalf("UnapplyY: Y[%d] = %v, want %v", k, d.Y[k], orig.Y[k])
		}
	}

	// Features only: targets untouched, UnapplyY a no-op.
	d2 := orig.Subset(seq(orig.N))
	s2 := FitStandardizer(d2, false)
	if s2.YMean != nil || s2.YStd != nil {
		t.Fatal("target stats without targets=true")
	}
	if err := s2.Apply(d2); err != nil {
		t.Fatal(err)
	}
	y := []float32{1, 2}
	s2.UnapplyY(y)
	if y[0] != 1 || y[1] != 2 || d2.Y[0] != orig.Y[0] {
		t.Fatal("targets changed without target stats")
	}
}

func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}

func TestStandardizerErrors(t *testing.T) {
	a := &Dataset{Name: "a", N: 2, D: 2, O: 1, X: []float32{1, 2, 3, 4}, Y: []float32{1, 2}}
	b := &Dataset{Name: "b", N: 1, D: 3, O: 1, X: []float32{1, 2, 3}, Y: []float32{1}}
	c := &Dataset{Name: "c", N: 1, D: 2, O: 2, X: []float32{1, 2}, Y: []float32{1, 2}}
	s := FitStandardizer(a, true)
	if err := s.Apply(b); err == nil || !strings.Contains(err.Error(), "D=3") {
		t.Errorf("feature mismatch: %v", err)
	}
	if err := s.Apply(c); err == nil || !strings.Contains(err.Error(), "O=2") {
		t.Errorf("target mismatch: %v", err)
	}
	if c.X[0] != 1 {
		t.Error("failed Apply modified the dataset")
	}
	// Tiny std on train, huge value on test: overflow is an error, not Inf.
	tr := &Dataset{Name: "tr", N: 2, D: 1, O: 1, X: []float32{0, 1e-30}, Y: []float32{0, 0}}
	te := &Dataset{Name: "te", N: 1, D: 1, O: 1, X: []float32{3e38}, Y: []float32{0}}
	if err := FitStandardizer(tr, false).Apply(te); err == nil || !strings.Contains(err.Error(), "te") {
		t.Errorf("overflow: %v", err)
	}
	// Empty dataset: neutral statistics.
	e := FitStandardizer(&Dataset{D: 2, O: 1}, true)
	if e.XMean[0] != 0 || e.XStd[1] != 1 || e.YStd[0] != 1 {
		t.Errorf("empty: %+v", e)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("UnapplyY with a partial row did not panic")
		}
	}()
	FitStandardizer(c, true).UnapplyY([]float32{1, 2, 3})
}
