package data

import (
	"math"
	"slices"
	"testing"
)

func TestSplit(t *testing.T) {
	n := 1000
	d := &Dataset{Name: "s", N: n, D: 1, O: 1, X: make([]float32, n), Y: make([]float32, n)}
	for i := range n {
		d.X[i], d.Y[i] = float32(i), float32(-i)
	}
	tr, te, err := Split(d, 0.2, 7)
	if err != nil {
		t.Fatal(err)
	}
	if tr.N != 800 || te.N != 200 {
		t.Fatalf("sizes %d %d", tr.N, te.N)
	}
	seen := make([]bool, n)
	for _, part := range []*Dataset{tr, te} {
		for i := 0; i < part.N; i++ {
			v := int(part.X[i])
			if part.Y[i] != -part.X[i] || seen[v] {
				t.Fatalf("row %d broken or repeated", v)
			}
			seen[v] = true
		}
	}
	if slices.Contains(seen, false) {
		t.Fatal("a row is missing")
	}
	if slices.IsSorted(te.X) {
		t.Fatal("test rows not shuffled")
	}
	tr2, te2, _ := Split(d, 0.2, 7)
	if !slices.Equal(tr.X, tr2.X) || !slices.Equal(te.X, te2.X) {
		t.Fatal("same seed gave a different split")
	}
	_, te3, _ := Split(d, 0.2, 8)
	if slices.Equal(te.X, te3.X) {
		t.Fatal("different seeds gave the same split")
	}
	tr4, te4, err := Split(d, 0, 1)
	if err != nil || tr4.N != n || te4.N != 0 {
		t.Fatalf("fraction 0: %v %d %d", err, tr4.N, te4.N)
	}
	one := d.Subset([]int{5})
	tr5, te5, err := Split(one, 0.9, 1)
	if err != nil || tr5.N != 1 || te5.N != 0 {
		t.Fatalf("single row keeps it for training: %v %d %d", err, tr5.N, te5.N)
	}
	for _, f := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, _, err := Split(d, f, 1); err == nil {
			t.Errorf("fraction %v accepted", f)
		}
	}
	if _, _, err := Split(&Dataset{Name: "e"}, 0.5, 1); err == nil {
		t.Error("empty dataset accepted")
	}
}
