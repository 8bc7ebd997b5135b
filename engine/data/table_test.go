package data

import (
	"archive/zip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeTemp(t testing.TB, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const fruitCSV = `size,color,weight,kind
1.5,red,10,apple
2,green,12,pear
0.5,red,3,cherry
1,yellow,11,pear
1.25,green,9,apple
`

func TestTableCategoricalAndTextLabels(t *testing.T) {
	p := writeTemp(t, "fruit.csv", fruitCSV)
	opt := CSVOptions{TargetName: "kind", AutoClasses: true, Categorical: true}
	d, err := Load(p, "", opt, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// color one-hot in sorted order: green, red, yellow.
	if want := []string{"size", "color=green", "color=red", "color=yellow", "weight"}; !slices.Equal(d.FeatureNames, want) {
		t.Fatalf("features %q, want %q", d.FeatureNames, want)
	}
	wantX := []float32{
		1.5, 0, 1, 0, 10,
		2, 1, 0, 0, 12,
		0.5, 0, 1, 0, 3,
		1, 0, 0, 1, 11,
		1.25, 1, 0, 0, 9,
	}
	if !slices.Equal(d.X, wantX) {
		t.Fatalf("X = %v\nwant %v", d.X, wantX)
	}
	if want := []string{"apple", "cherry", "pear"}; !slices.Equal(d.ClassLabels, want) || d.Classes != nil {
		t.Fatalf("classes %v %q", d.Classes, d.ClassLabels)
	}
	wantY := []float32{1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 1, 0, 0}
	if !slices.Equal(d.Y, wantY) {
		t.Fatalf("Y = %v", d.Y)
	}
	if d.TargetColumn != 3 || d.Encoding == nil || len(d.Encoding.Features) != 3 {
		t.Fatalf("target column %d, encoding %+v", d.TargetColumn, d.Encoding)
	}
	if want := []string{"kind=apple", "kind=cherry", "kind=pear"}; !slices.Equal(d.TargetNames, want) {
		t.Fatalf("target names %q", d.TargetNames)
	}

	// The same encoding applied to a file with the columns reordered, the
	// target left out, gives the same features.
	q := writeTemp(t, "q.csv", "weight,color,size\n10,red,1.5\n9,green,1.25\n")
	tq, err := LoadTable(q, "", CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dq, err := d.Encoding.Apply(tq, false)
	if err != nil {
		t.Fatal(err)
	}
	if dq.O != 0 || !slices.Equal(dq.X, append(slices.Clone(wantX[:5]), wantX[20:]...)) {
		t.Fatalf("applied: O=%d X=%v", dq.O, dq.X)
	}
	if _, err := d.Encoding.Apply(tq, true); err == nil || !strings.Contains(err.Error(), `no target column ("kind")`) {
		t.Errorf("targets needed: %v", err)
	}

	// An unseen category and an unseen label name file, line, column and value.
	for _, c := range []struct{ text, want string }{
		{"size,color,weight,kind\n1,blue,3,apple\n", `u.csv:2: field 2 ("color"): category "blue" was not seen in training (the categories are ["green" "red" "yellow"])`},
		{"size,color,weight,kind\n1,red,3,apple\n1,red,3,plum\n", `u.csv:3: field 4 ("kind"): class label "plum" was not among the training classes ["apple" "cherry" "pear"]`},
		{"size,color,weight\n1,red,x\n", `u.csv:2: field 3 ("weight"): not a number: "x"`},
		{"size,colour,weight\n1,red,3\n", `u.csv: no column named "color": the model's features are "size", "color", "weight"; the file's columns are 0 "size", 1 "colour", 2 "weight"`},
	} {
		u := writeTemp(t, "u.csv", c.text)
		tu, err := LoadTable(u, "", CSVOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Encoding.Apply(tu, false)
		if err == nil || !strings.HasSuffix(err.Error(), c.want) || !strings.HasPrefix(err.Error(), u) {
			t.Errorf("%q: err = %v\nwant …%s", c.text, err, c.want)
		}
	}
}

func TestTableRefusesTextColumn(t *testing.T) {
	p := writeTemp(t, "fruit.csv", fruitCSV)
	_, err := Load(p, "", CSVOptions{TargetName: "kind", AutoClasses: true}, LIBSVMOptions{})
	var oe *OptionError
	if !errors.As(err, &oe) || oe.Option != "Categorical" || !strings.Contains(err.Error(), `"color" holds text ("red", line 2), not numbers`) {
		t.Fatalf("err = %v", err)
	}
	// Leaving the column out with Features works.
	d, err := Load(p, "", CSVOptions{TargetName: "kind", AutoClasses: true, Features: []string{"weight", "SIZE"}}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.FeatureNames, []string{"weight", "size"}) || !slices.Equal(d.X[:2], []float32{10, 1.5}) {
		t.Fatalf("features %q X %v", d.FeatureNames, d.X[:2])
	}
}

func TestTableFeatureErrors(t *testing.T) {
	p := writeTemp(t, "f.csv", fruitCSV)
	for _, c := range []struct {
		feats []string
		want  string
	}{
		{[]string{"size", "height"}, `no column is named "height"; the columns are 0 "size", 1 "color", 2 "weight", 3 "kind"`},
		{[]string{"kind"}, `"kind" is the target column`},
		{[]string{"size", "size"}, `"size" is named twice`},
	} {
		_, err := Load(p, "", CSVOptions{TargetName: "kind", AutoClasses: true, Features: c.feats}, LIBSVMOptions{})
		var oe *OptionError
		if !errors.As(err, &oe) || oe.Option != "Features" || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v", c.feats, err)
		}
	}
	// Without a header, features are 0-based indices.
	q := writeTemp(t, "q.csv", "1,2,3\n4,5,6\n")
	d, err := Load(q, "", CSVOptions{Target: 2, Features: []string{"1", "0"}}, LIBSVMOptions{})
	if err != nil || !slices.Equal(d.X, []float32{2, 1, 5, 4}) || !slices.Equal(d.Y, []float32{3, 6}) {
		t.Fatalf("by index: %v %+v", err, d)
	}
	if _, err := Load(q, "", CSVOptions{Target: 2, Features: []string{"a"}}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "has no header, give 0-based column indices 0..2") {
		t.Errorf("name without header: %v", err)
	}
	l := writeTemp(t, "l.libsvm", "1 1:2 3:4\n")
	if _, err := Load(l, "", CSVOptions{Features: []string{"1"}}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "a LIBSVM file has no named or text columns") {
		t.Errorf("libsvm with features: %v", err)
	}
	n := writeTemp(t, "n.npz", "")
	if _, err := Load(n, "", CSVOptions{Features: []string{"a"}}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "no named or text columns") {
		t.Errorf("npz with features: %v", err)
	}
}

// TestTableMatchesReadCSV: a CSV file with integer class labels reads the
// same through the table (Load with OneHot) as through ReadCSV.
func TestTableMatchesReadCSV(t *testing.T) {
	text := "a,b,label\n0.1,1e-3,7\n0.30000001,2,-1\n3.4028234e38,5,7\n1,2,3\n"
	p := writeTemp(t, "m.csv", text)
	for _, k := range []int{3, 5} {
		opt := CSVOptions{TargetName: "label", OneHot: k}
		viaTable, err := Load(p, "", opt, LIBSVMOptions{})
		if err != nil {
			t.Fatal(err)
		}
		direct, err := ReadCSV(strings.NewReader(text), "m", opt)
		if err != nil {
			t.Fatal(err)
		}
		viaTable.Encoding = nil
		if !slices.Equal(viaTable.X, direct.X) || !slices.Equal(viaTable.Y, direct.Y) || !slices.Equal(viaTable.Classes, direct.Classes) ||
			!slices.Equal(viaTable.FeatureNames, direct.FeatureNames) || !slices.Equal(viaTable.TargetNames, direct.TargetNames) ||
			viaTable.N != direct.N || viaTable.D != direct.D || viaTable.O != direct.O || viaTable.TargetColumn != direct.TargetColumn {
			t.Errorf("OneHot %d: table %+v\ndirect %+v", k, viaTable, direct)
		}
	}
	// A non-integer numeric label is refused, as by ReadCSV.
	q := writeTemp(t, "q.csv", "a,label\n1,2.5\n")
	if _, err := Load(q, "", CSVOptions{TargetName: "label", AutoClasses: true}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), `q.csv:2: field 2 ("label"): class label "2.5" is not an integer`) {
		t.Errorf("err = %v", err)
	}
}

func TestLabelKeyAndSort(t *testing.T) {
	keys := []string{LabelKey(" b"), LabelKey("10"), LabelKey("+2.0"), LabelKey("a"), LabelKey("-1"), LabelKey("B")}
	SortLabels(keys)
	if want := []string{"-1", "2", "10", "B", "a", "b"}; !slices.Equal(keys, want) {
		t.Fatalf("sorted %q, want %q", keys, want)
	}
}

func TestTableBadInput(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"a,b,y\n1,,2\n", `e.csv:2: field 2 ("b"): empty field`},
		{"a,y\n1,2\n1,2,3\n", `e.csv:3: has 3 fields, want 2 (as on line 1)`},
		{"a,y\n1e39,2\n", `e.csv:2: field 1 ("a"): value 1e+39 overflows float32`},
		{"a,y\nNaN,2\n", `e.csv:2: field 1 ("a"): non-finite value NaN not allowed`},
		{"a,y\n", `e.csv: no data rows after the header on line 1`},
		{"", `e.csv: empty file: no rows`},
	} {
		p := writeTemp(t, "e.csv", c.text)
		_, err := Load(p, "", CSVOptions{Target: -1, Categorical: true}, LIBSVMOptions{})
		if err == nil || err.Error() != filepath.Join(filepath.Dir(p), c.want) {
			t.Errorf("%q: err = %v\nwant %s", c.text, err, c.want)
		}
	}
}

// TestNPZTargetByName: --target y names an .npz file's y array; any other
// name is refused, saying where the targets are.
func TestNPZTargetByName(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.npz")
	f, _ := os.Create(p)
	zw := zip.NewWriter(f)
	for name, v := range map[string][]float32{"x.npy": {1, 2, 3, 4, 5, 6}, "y.npy": {7, 8, 7}} {
		w, _ := zw.Create(name)
		if err := WriteNPY(w, 3, len(v)/3, v); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	f.Close()
	d, err := Load(p, "", CSVOptions{TargetName: "y", AutoClasses: true}, LIBSVMOptions{})
	if err != nil || d.O != 2 || d.D != 2 || !slices.Equal(d.Classes, []float64{7, 8}) {
		t.Fatalf("--target y: %v %+v", err, d)
	}
	if _, err := Load(p, "", CSVOptions{TargetName: "label"}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "array y (or Y)") {
		t.Fatalf("--target label: %v", err)
	}
}

// TestTableDuplicateNames: a column name used twice is only an error when
// another file's feature or target is matched by it.
func TestTableDuplicateNames(t *testing.T) {
	p := writeTemp(t, "d.csv", "a,a,b,label\n1,2,3,x\n4,5,6,y\n")
	d, err := Load(p, "", CSVOptions{TargetName: "label", AutoClasses: true, Features: []string{"b"}}, LIBSVMOptions{})
	if err != nil || !slices.Equal(d.X, []float32{3, 6}) {
		t.Fatalf("unused duplicate: %v", err)
	}
	d, err = Load(p, "", CSVOptions{TargetName: "label", AutoClasses: true}, LIBSVMOptions{})
	if err != nil || !slices.Equal(d.X, []float32{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("training with a duplicate: %v", err)
	}
	tb, _ := LoadTable(p, "", CSVOptions{})
	if _, err := d.Encoding.Apply(tb, false); err == nil || !strings.Contains(err.Error(), `column name "a" appears twice`) {
		t.Fatalf("applying with a duplicate: %v", err)
	}
}
