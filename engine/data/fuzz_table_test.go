package data

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// parquetSeeds are small Parquet files of the shapes the reader handles
// and refuses, for the fuzz corpus.
func parquetSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	add := func(cols []ParquetColumn, rowGroup int) {
		var b bytes.Buffer
		if err := WriteParquet(&b, cols, rowGroup); err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, b.Bytes())
	}
	add([]ParquetColumn{{Name: "x", Float64: []float64{1, 2, 3}}, {Name: "y", Int64: []int64{0, 1, 0}}}, 0)
	add([]ParquetColumn{{Name: "a", Float32: []float32{1, -2}}, {Name: "c", Text: []string{"red", "blue"}}, {Name: "label", Text: []string{"yes", "no"}}}, 1)
	add([]ParquetColumn{{Name: "b", Bool: []bool{true, false, true}}, {Name: "y", Float64: []float64{1, 2, 3}, Nulls: []bool{false, true, false}}}, 2)
	add([]ParquetColumn{{Name: "x", Float64: []float64{1e300, -0.0}}, {Name: "class", Int64: []int64{-5, 1 << 60}}}, 0)
	return seeds
}

// FuzzReadParquet: any bytes give a table or an error naming the file,
// never a panic; a table turns into a valid dataset or an error naming it.
func FuzzReadParquet(f *testing.F) {
	for _, s := range parquetSeeds(f) {
		f.Add(s, uint8(0))
	}
	f.Add([]byte("PAR1PAR1"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) {
		tb, err := ReadParquet(bytes.NewReader(data), int64(len(data)), "fuzz.parquet", 1+int(mode>>3)%64)
		if err != nil {
			if tb != nil || !strings.HasPrefix(err.Error(), "fuzz.parquet") {
				t.Fatalf("table %v with error %q", tb, err)
			}
			return
		}
		opt := CSVOptions{GuessTarget: true, Categorical: mode&1 != 0, AutoClasses: mode&2 != 0, Target: -1}
		if mode&4 != 0 {
			opt.GuessTarget = false
		}
		d, enc, err := tb.Dataset(opt)
		checkFuzzResult(t, "fuzz.parquet", d, err)
		if err == nil {
			checkReapply(t, tb, d, enc)
		}
	})
}

// checkReapply: the encoding learnt from a table, applied to it again,
// gives the same dataset (or, matching by name, refuses duplicate names).
func checkReapply(t *testing.T, tb *Table, d *Dataset, enc *Encoding) {
	t.Helper()
	again, err := enc.Apply(tb, true)
	if err != nil && strings.Contains(err.Error(), "appears twice; cannot match the columns by name") {
		return // by name, a duplicate header name is ambiguous
	}
	if err != nil {
		t.Fatalf("re-applying the encoding: %v", err)
	}
	if !slices.Equal(again.X, d.X) || !slices.Equal(again.Y, d.Y) || !slices.Equal(again.ClassLabels, d.ClassLabels) || !slices.Equal(again.Classes, d.Classes) {
		t.Fatal("re-applying the encoding gives another dataset")
	}
	for _, c := range enc.Features {
		if !slices.IsSortedFunc(c.Categories, func(a, b string) int { return compareSorted(a, b) }) {
			t.Fatalf("categories %q not in SortLabels order", c.Categories)
		}
	}
}

// compareSorted orders two keys as SortLabels does.
func compareSorted(a, b string) int {
	if a == b {
		return 0
	}
	k := []string{b, a}
	SortLabels(k)
	if k[0] == a {
		return -1
	}
	return 1
}

// FuzzTableEncoding: CSV text read as a table, with categorical columns
// and text class labels, gives a valid dataset whose encoding re-applies
// to the same rows, or an error naming the file.
func FuzzTableEncoding(f *testing.F) {
	f.Add([]byte(fruitCSV), uint8(3), -1)
	f.Add([]byte("a,b,y\n1,x,2\n2,y,3\n"), uint8(1), 2)
	f.Add([]byte("1,cat\n2,dog\n3,cat\n"), uint8(2), 1)
	f.Add([]byte("c,y\n1,1.0\n01,+1\n x ,2\n"), uint8(3), 1)
	f.Add([]byte("a,y\nNaN,1\n"), uint8(0), 0)
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, target int) {
		tb, err := ReadCSVTable(bytes.NewReader(data), "fuzz.csv", CSVOptions{Header: HeaderMode(mode>>2) % 3})
		if err != nil {
			if tb != nil || !strings.HasPrefix(err.Error(), "fuzz.csv") {
				t.Fatalf("table with error %q", err)
			}
			return
		}
		opt := CSVOptions{Target: target % 6, Categorical: mode&1 != 0, AutoClasses: mode&2 != 0}
		d, enc, err := tb.Dataset(opt)
		checkFuzzResult(t, "fuzz.csv", d, err)
		if err == nil {
			checkReapply(t, tb, d, enc)
		}
	})
}
