package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	good := func() *Dataset {
		return &Dataset{Name: "g", N: 2, D: 2, O: 1, X: []float32{1, 2, 3, 4}, Y: []float32{5, 6}}
	}
	if err := good().Validate(); err != nil {
		t.Fatal(err)
	}
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	tests := []struct {
		name string
		mod  func(d *Dataset)
		want string
	}{
		{"short X", func(d *Dataset) { d.X = d.X[:3] }, "len(X)=3, want N*D=2*2=4"},
		{"long Y", func(d *Dataset) { d.Y = append(d.Y, 1) }, "len(Y)=3"},
		{"negative", func(d *Dataset) { d.D = -1 }, "negative shape"},
		{"NaN X", func(d *Dataset) { d.X[3] = nan }, "X[1][1] = NaN is not finite"},
		{"Inf Y", func(d *Dataset) { d.Y[1] = inf }, "Y[1][0] = +Inf is not finite"},
		{"feature names", func(d *Dataset) { d.FeatureNames = []string{"a"} }, "1 feature names for D=2"},
		{"target names", func(d *Dataset) { d.TargetNames = []string{"a", "b"} }, "2 target names for O=1"},
		{"classes", func(d *Dataset) { d.Classes = []float64{1, 2} }, "2 classes for O=1"},
		{"overflow", func(d *Dataset) { d.N, d.D = math.MaxInt/2, 4 }, "overflows int"},
	}
	for _, tc := range tests {
		d := good()
		tc.mod(d)
		err := d.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `"g"`) {
			t.Errorf("%s: error %v, want it to contain %q and the name", tc.name, err, tc.want)
		}
	}
	var nilDS *Dataset
	if nilDS.Validate() == nil {
		t.Error("nil dataset validated")
	}
}

func TestSubset(t *testing.T) {
	d := &Dataset{Name: "s", N: 3, D: 2, O: 1, X: []float32{1, 2, 3, 4, 5, 6}, Y: []float32{7, 8, 9},
		FeatureNames: []string{"a", "b"}}
	s := d.Subset([]int{2, 0, 2})
	if s.N != 3 || !slices.Equal(s.X, []float32{5, 6, 1, 2, 5, 6}) || !slices.Equal(s.Y, []float32{9, 7, 9}) {
		t.Fatalf("got %+v", s)
	}
	s.X[0], s.FeatureNames[0] = 100, "z"
	if d.X[4] != 5 || d.FeatureNames[0] != "a" {
		t.Fatal("Subset aliases the original")
	}
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		r := recover()
		if msg, _ := r.(string); !strings.HasPrefix(msg, "data: Subset index 3 out of range") {
			t.Fatalf("panic %v", r)
		}
	}()
	d.Subset([]int{3})
}
