package data

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestReadLIBSVM(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		opt     LIBSVMOptions
		d, o    int
		wantX   []float32
		wantY   []float32
		classes []float64
	}{
		{name: "basic sparse", text: "1 1:0.5 3:2\n-1 2:1\n", d: 3, o: 1,
			wantX: []float32{0.5, 0, 2, 0, 1, 0}, wantY: []float32{1, -1}},
		{name: "qid comments blank lines CRLF tabs", text: "# header comment\n\n2.5 qid:7 1:1\t4:-3 # trailing, comment\r\n\r\n   \n0 qid:8 2:2\n", d: 4, o: 1,
			wantX: []float32{1, 0, 0, -3, 0, 2, 0, 0}, wantY: []float32{2.5, 0}},
		{name: "features fixed wider than seen", text: "1 1:1\n2 2:2\n", opt: LIBSVMOptions{Features: 4}, d: 4, o: 1,
			wantX: []float32{1, 0, 0, 0, 0, 2, 0, 0}, wantY: []float32{1, 2}},
		{name: "label-only row", text: "3\n4 2:1\n", d: 2, o: 1,
			wantX: []float32{0, 0, 0, 1}, wantY: []float32{3, 4}},
		{name: "max index grows on a later row", text: "1 1:1\n2 5:5\n3 2:2\n", d: 5, o: 1,
			wantX: []float32{1, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 2, 0, 0, 0}, wantY: []float32{1, 2, 3}},
		{name: "fully dense rows", text: "1 1:1 2:2\n2 1:3 2:4\n", d: 2, o: 1,
			wantX: []float32{1, 2, 3, 4}, wantY: []float32{1, 2}},
		{name: "max rows", text: "1 1:1\n2 1:2\n3 1:3\n", opt: LIBSVMOptions{MaxRows: 2}, d: 1, o: 1,
			wantX: []float32{1, 2}, wantY: []float32{1, 2}},
		{name: "UTF-8 BOM", text: "\ufeff1 1:1\n", d: 1, o: 1, wantX: []float32{1}, wantY: []float32{1}},
		{name: "no trailing newline", text: "1 1:1\n2 1:2", d: 1, o: 1,
			wantX: []float32{1, 2}, wantY: []float32{1, 2}},
		{name: "one-hot +1/-1", text: "+1 1:1\n-1 1:2\n+1 1:3\n", opt: LIBSVMOptions{OneHot: 2}, d: 1, o: 2,
			wantX: []float32{1, 2, 3}, wantY: []float32{0, 1, 1, 0, 0, 1}, classes: []float64{-1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadLIBSVM(strings.NewReader(tc.text), "t.svm", tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			if d.D != tc.d || d.O != tc.o || !slices.Equal(d.X, tc.wantX) || !slices.Equal(d.Y, tc.wantY) || !slices.Equal(d.Classes, tc.classes) {
				t.Fatalf("D=%d O=%d X=%v Y=%v classes=%v, want %d %d %v %v %v", d.D, d.O, d.X, d.Y, d.Classes, tc.d, tc.o, tc.wantX, tc.wantY, tc.classes)
			}
		})
	}
}

func TestReadLIBSVMErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		opt   LIBSVMOptions
		line  int // 0: not a *ParseError
		field int
		col   string
		want  string
	}{
		{name: "bad label", text: "1 1:1\nabc 1:1\n", line: 2, field: 1, col: "label", want: `bad label: not a number: "abc"`},
		{name: "multi-label", text: "1,2 1:1\n", line: 1, field: 1, col: "label", want: "bad label"},
		{name: "nan label", text: "NaN 1:1\n", line: 1, field: 1, col: "label", want: "non-finite"},
		{name: "overflow label", text: "1e39 1:1\n", line: 1, field: 1, col: "label", want: "overflows float32"},
		{name: "pair without colon", text: "1 1:1 7\n", line: 1, field: 3, want: `bad pair: want index:value, got "7"`},
		{name: "bad index", text: "1 a:1\n", line: 1, field: 2, want: "index is not an integer"},
		{name: "index 0", text: "\n1 0:1\n", line: 2, field: 2, want: "index 0, indices are 1-based"},
		{name: "negative index", text: "1 -2:1\n", line: 1, field: 2, want: "indices are 1-based"},
		{name: "non-ascending", text: "1 1:1 3:1 2:1\n", line: 1, field: 4, want: "index 2 not greater than previous index 3"},
		{name: "repeated index", text: "1 2:1 2:1\n", line: 1, field: 3, want: "index 2 not greater than previous index 2"},
		{name: "index too large for int", text: "1 99999999999999999999:1\n", line: 1, field: 2, want: "feature index 99999999999999999999 exceeds the limit"},
		{name: "index too large for int32", text: "1 3000000000:1\n", line: 1, field: 2, want: "exceeds the limit of 1048576 features"},
		{name: "index over Features", text: "1 1:1\n1 5:1\n", opt: LIBSVMOptions{Features: 4}, line: 2, field: 2, want: "index 5 exceeds the 4 features expected"},
		{name: "empty value", text: "1 1:\n", line: 1, field: 2, want: "feature 1: empty field"},
		{name: "nan value", text: "1 1:nan\n", line: 1, field: 2, want: `feature 1: non-finite value "nan"`},
		{name: "inf value", text: "1 1:-Inf\n", line: 1, field: 2, want: "non-finite"},
		{name: "overflow value", text: "1 2:1e39\n", line: 1, field: 2, want: `feature 2: value "1e39" overflows float32`},
		{name: "bad value", text: "1 2:x\n", line: 1, field: 2, want: `not a number: "x"`},
		{name: "qid counts as field", text: "1 qid:1 1:z\n", line: 1, field: 3, want: "not a number"},
		{name: "dense limit", text: "1 1:1\n1 1000:1\n", opt: LIBSVMOptions{MaxDense: 1000}, line: 2, field: 2, want: "over the limit of 1000 values"},
		{name: "dense limit with features", text: "1 1:1\n1 1:1\n1 1:1\n", opt: LIBSVMOptions{MaxDense: 20, Features: 10}, line: 3, want: "exceed the limit of 20 values"},
		{name: "one-hot too many", text: "1 1:1\n2 1:1\n3 1:1\n", opt: LIBSVMOptions{OneHot: 2}, line: 3, field: 1, col: "label", want: "only 2 one-hot classes"},
		{name: "one-hot fractional", text: "0.5 1:1\n", opt: LIBSVMOptions{OneHot: 2}, line: 1, field: 1, col: "label", want: "not an integer"},
		{name: "empty input", text: "", want: "t.svm: no data rows"},
		{name: "comments only", text: "# a\n\n  # b\n", want: "t.svm: no data rows"},
		{name: "labels only", text: "1\n2\n", want: "no features"},
		{name: "negative features", text: "1 1:1\n", opt: LIBSVMOptions{Features: -1}, want: "the number of features -1 is negative"},
		{name: "features over limit", text: "1 1:1\n", opt: LIBSVMOptions{Features: 100, MaxDense: 10}, want: "exceed the dense-size limit of 10 values"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadLIBSVM(strings.NewReader(tc.text), "t.svm", tc.opt)
			if err == nil {
				t.Fatalf("no error; got N=%d D=%d X=%v", d.N, d.D, d.X)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "t.svm") || !strings.Contains(msg, tc.want) {
				t.Fatalf("error %q: want prefix t.svm and %q", msg, tc.want)
			}
			if tc.line == 0 {
				return
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", msg)
			}
			if pe.Line != tc.line || pe.Field != tc.field || pe.Name != tc.col {
				t.Errorf("line %d field %d name %q, want %d %d %q", pe.Line, pe.Field, pe.Name, tc.line, tc.field, tc.col)
			}
			if !strings.HasPrefix(msg, "t.svm:"+strconv.Itoa(tc.line)+": ") {
				t.Errorf("error %q does not start with t.svm:%d: ", msg, tc.line)
			}
		})
	}
}

func TestReadLIBSVMLongLine(t *testing.T) {
	// A line much longer than the 64 KiB read buffer.
	var b strings.Builder
	b.WriteString("7")
	const d = 20000
	for j := 1; j <= d; j++ {
		b.WriteString(" " + strconv.Itoa(j) + ":" + strconv.Itoa(j%13))
	}
	b.WriteString("\n8 3:1\n")
	ds, err := ReadLIBSVM(strings.NewReader(b.String()), "long", LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || ds.D != d || ds.Y[0] != 7 || ds.Y[1] != 8 {
		t.Fatalf("N=%d D=%d Y=%v", ds.N, ds.D, ds.Y)
	}
	for j := 0; j < d; j++ {
		if ds.X[j] != float32((j+1)%13) {
			t.Fatalf("X[0][%d] = %v", j, ds.X[j])
		}
	}
	if row := ds.XRow(1); row[2] != 1 || row[0] != 0 || row[d-1] != 0 {
		t.Fatalf("row 1 wrong: %v", row[:4])
	}
}

// TestLIBSVMCSVRoundTrip writes the same random data in both formats and
// checks they load identically.
func TestLIBSVMCSVRoundTrip(t *testing.T) {
	src, err := Teacher(TeacherConfig{N: 300, D: 7, Hidden: 5, O: 1, TailDOF: 3, Noise: 0.1, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	// Make it sparse: zero out some entries.
	for k := range src.X {
		if k%3 == 0 {
			src.X[k] = 0
		}
	}
	var csvText, svmText strings.Builder
	for i := 0; i < src.N; i++ {
		f := func(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }
		csvText.WriteString(f(src.Y[i]))
		svmText.WriteString(f(src.Y[i]))
		for j, v := range src.XRow(i) {
			csvText.WriteString("," + f(v))
			if v != 0 {
				svmText.WriteString(" " + strconv.Itoa(j+1) + ":" + f(v))
			}
		}
		csvText.WriteString("\n")
		svmText.WriteString("\n")
	}
	dir := t.TempDir()
	csvPath, svmPath := filepath.Join(dir, "rt.csv"), filepath.Join(dir, "rt.libsvm")
	if err := os.WriteFile(csvPath, []byte(csvText.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(svmPath, []byte(svmText.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Load(csvPath, "", CSVOptions{}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(svmPath, "", CSVOptions{}, LIBSVMOptions{Features: src.D})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*Dataset{a, b} {
		if d.N != src.N || d.D != src.D || !slices.Equal(d.X, src.X) || !slices.Equal(d.Y, src.Y) {
			t.Fatalf("%s: round trip differs (N=%d D=%d)", d.Name, d.N, d.D)
		}
	}
}
