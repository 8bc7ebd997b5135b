package data

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeParquetFile writes cols as a Parquet file in a temporary directory.
func writeParquetFile(t testing.TB, name string, cols []ParquetColumn, rowGroup int) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteParquet(&b, cols, rowGroup); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParquetRoundTrip(t *testing.T) {
	cols := []ParquetColumn{
		{Name: "b", Float64: []float64{1.5, -2, 3.25, 4}},
		{Name: "a", Float32: []float32{0.5, 1, 2, 3}},
		{Name: "flag", Bool: []bool{true, false, true, false}},
		{Name: "count", Int64: []int64{7, -3, 1 << 40, 0}},
		{Name: "y", Float64: []float64{10, 20, 30, 40}},
	}
	for _, rg := range []int{0, 1, 3} {
		p := writeParquetFile(t, "t.parquet", cols, rg)
		d, err := Load(p, "", CSVOptions{TargetName: "y"}, LIBSVMOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if d.N != 4 || d.D != 4 || d.O != 1 {
			t.Fatalf("row group %d: shape N=%d D=%d O=%d", rg, d.N, d.D, d.O)
		}
		if want := []string{"b", "a", "flag", "count"}; !slices.Equal(d.FeatureNames, want) {
			t.Fatalf("feature names %q, want %q (file order)", d.FeatureNames, want)
		}
		wantX := []float32{1.5, 0.5, 1, 7, -2, 1, 0, -3, 3.25, 2, 1, 1 << 40, 4, 3, 0, 0}
		if !slices.Equal(d.X, wantX) {
			t.Fatalf("X = %v, want %v", d.X, wantX)
		}
		if !slices.Equal(d.Y, []float32{10, 20, 30, 40}) {
			t.Fatalf("Y = %v", d.Y)
		}
		if d.Name != "t" || d.TargetColumn != 4 {
			t.Fatalf("name %q target column %d", d.Name, d.TargetColumn)
		}
	}
}

func TestParquetNullNamesRowAndColumn(t *testing.T) {
	p := writeParquetFile(t, "n.parquet", []ParquetColumn{
		{Name: "x", Float64: []float64{1, 2, 3}, Nulls: []bool{false, false, true}},
		{Name: "y", Float64: []float64{1, 2, 3}},
	}, 0)
	_, err := Load(p, "", CSVOptions{TargetName: "y"}, LIBSVMOptions{})
	if err == nil || !strings.Contains(err.Error(), p+": row 3: field 1 (\"x\"): null value") {
		t.Fatalf("err = %v", err)
	}
}
