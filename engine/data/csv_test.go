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

func mustReadCSV(t *testing.T, text string, opt CSVOptions) *Dataset {
	t.Helper()
	d, err := ReadCSV(strings.NewReader(text), "t.csv", opt)
	if err != nil {
		t.Fatalf("ReadCSV: %v", err)
	}
	if err := d.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return d
}

func TestReadCSVYearPredictionLayout(t *testing.T) {
	// Target first, then features, no header: default options.
	var b strings.Builder
	for i := 0; i < 5; i++ {
		b.WriteString(strconv.Itoa(2001 + i))
		for j := 0; j < 90; j++ {
			b.WriteString("," + strconv.FormatFloat(float64(i*100+j)/7, 'g', -1, 64))
		}
		b.WriteString("\n")
	}
	d := mustReadCSV(t, b.String(), CSVOptions{})
	if d.N != 5 || d.D != 90 || d.O != 1 {
		t.Fatalf("shape N=%d D=%d O=%d, want 5 90 1", d.N, d.D, d.O)
	}
	if d.FeatureNames != nil {
		t.Errorf("FeatureNames = %v, want nil (no header)", d.FeatureNames)
	}
	for i := 0; i < 5; i++ {
		if d.Y[i] != float32(2001+i) {
			t.Errorf("Y[%d] = %v, want %d", i, d.Y[i], 2001+i)
		}
		for j := 0; j < 90; j++ {
			if want := float32(float64(i*100+j) / 7); d.X[i*90+j] != want {
				t.Fatalf("X[%d][%d] = %v, want %v", i, j, d.X[i*90+j], want)
			}
		}
	}
}

func TestReadCSVOptions(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		opt      CSVOptions
		wantX    []float32
		wantY    []float32
		d, o     int
		features []string
		targets  []string
		classes  []float64
	}{
		{name: "header auto, target last", text: "a,b,y\n1,2,3\n4,5,6\n", opt: CSVOptions{Target: -1},
			wantX: []float32{1, 2, 4, 5}, wantY: []float32{3, 6}, d: 2, o: 1,
			features: []string{"a", "b"}, targets: []string{"y"}},
		{name: "header yes numeric names", text: "1,2,3\n1,2,3\n", opt: CSVOptions{Header: HeaderYes},
			wantX: []float32{2, 3}, wantY: []float32{1}, d: 2, o: 1,
			features: []string{"2", "3"}, targets: []string{"1"}},
		{name: "header no", text: "1,2,3\n", opt: CSVOptions{Header: HeaderNo},
			wantX: []float32{2, 3}, wantY: []float32{1}, d: 2, o: 1},
		{name: "two targets in the middle", text: "1,2,3,4\n5,6,7,8\n", opt: CSVOptions{Target: 1, Targets: 2},
			wantX: []float32{1, 4, 5, 8}, wantY: []float32{2, 3, 6, 7}, d: 2, o: 2},
		{name: "quoted fields and CRLF and blank trailing line", text: "\"x, 1\",\"y\"\r\n\"1.5\",\"2\"\r\n3,4\r\n\r\n",
			opt: CSVOptions{Target: 1}, wantX: []float32{1.5, 3}, wantY: []float32{2, 4}, d: 1, o: 1,
			features: []string{"x, 1"}, targets: []string{"y"}},
		{name: "semicolon", text: "1;2;3\n4;5;6\n", opt: CSVOptions{Comma: ';'},
			wantX: []float32{2, 3, 5, 6}, wantY: []float32{1, 4}, d: 2, o: 1},
		{name: "tab and spaces around numbers", text: "1\t 2 \t3\n", opt: CSVOptions{Comma: '\t'},
			wantX: []float32{2, 3}, wantY: []float32{1}, d: 2, o: 1},
		{name: "max rows", text: "1,2\n3,4\n5,6\n", opt: CSVOptions{MaxRows: 2},
			wantX: []float32{2, 4}, wantY: []float32{1, 3}, d: 1, o: 1},
		{name: "one-hot sorted labels", text: "c,f\n7,1\n-1,2\n7,3\n3.0,4\n", opt: CSVOptions{OneHot: 4},
			wantX: []float32{1, 2, 3, 4}, wantY: []float32{0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0}, d: 1, o: 4,
			features: []string{"f"}, targets: []string{"c=-1", "c=3", "c=7", "c=8"}, classes: []float64{-1, 3, 7, 8}},
		{name: "UTF-8 BOM before data", text: "\ufeff1,2\n", wantX: []float32{2}, wantY: []float32{1}, d: 1, o: 1},
		{name: "UTF-8 BOM before header", text: "\ufeffy,a\n1,2\n", wantX: []float32{2}, wantY: []float32{1}, d: 1, o: 1,
			features: []string{"a"}, targets: []string{"y"}},
		{name: "underflow is zero", text: "1,1e-50\n", wantX: []float32{0}, wantY: []float32{1}, d: 1, o: 1},
		{name: "largest float32", text: "1,3.4028234e38\n", wantX: []float32{3.4028234e38}, wantY: []float32{1}, d: 1, o: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := mustReadCSV(t, tc.text, tc.opt)
			if d.D != tc.d || d.O != tc.o {
				t.Fatalf("D=%d O=%d, want %d %d", d.D, d.O, tc.d, tc.o)
			}
			if !slices.Equal(d.X, tc.wantX) || !slices.Equal(d.Y, tc.wantY) {
				t.Fatalf("X=%v Y=%v, want %v %v", d.X, d.Y, tc.wantX, tc.wantY)
			}
			if !slices.Equal(d.FeatureNames, tc.features) || !slices.Equal(d.TargetNames, tc.targets) || !slices.Equal(d.Classes, tc.classes) {
				t.Fatalf("names %q %q classes %v, want %q %q %v", d.FeatureNames, d.TargetNames, d.Classes, tc.features, tc.targets, tc.classes)
			}
		})
	}
}

func TestReadCSVErrors(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		opt   CSVOptions
		line  int    // 0: not a *ParseError
		field int    // expected ParseError.Field
		col   string // expected ParseError.Name
		want  string // substring of the message
		is    error  // errors.Is target, if any
	}{
		{name: "not a number", text: "y,age\n1,2\n3,x1\n", line: 3, field: 2, col: "age", want: `field 2 ("age"): not a number: "x1"`, is: strconv.ErrSyntax},
		{name: "not a number in target", text: "1,2\nq,2\n", line: 2, field: 1, want: `not a number: "q"`},
		{name: "empty field", text: "1,2,3\n1,,3\n", line: 2, field: 2, want: "empty field"},
		{name: "blank field spaces", text: "1,2,3\n1, ,3\n", line: 2, field: 2, want: "empty field"},
		{name: "nan", text: "1,nan\n", line: 1, field: 2, want: `non-finite value "nan"`, is: errNonFinite},
		{name: "NaN header", text: "a,b\n1,NaN\n", line: 2, field: 2, col: "b", want: `non-finite value "NaN"`},
		{name: "inf", text: "1,2\n1,inf\n", line: 2, field: 2, want: `non-finite value "inf"`},
		{name: "+Inf", text: "1,+Inf\n", line: 1, field: 2, want: `non-finite value "+Inf"`},
		{name: "-Infinity", text: "1,-Infinity\n", line: 1, field: 2, want: "non-finite"},
		{name: "overflow", text: "1,2\n1,1e39\n", line: 2, field: 2, want: `value "1e39" overflows float32`, is: strconv.ErrRange},
		{name: "overflow negative target", text: "-1e39,2\n", line: 1, field: 1, want: "overflows float32"},
		{name: "ragged short", text: "1,2,3\n4,5,6\n7,8\n", line: 3, want: "has 2 fields, want 3 (as on line 1)"},
		{name: "ragged long after header", text: "a,b\n1,2\n1,2,3\n", line: 3, want: "has 3 fields, want 2 (as on line 1)"},
		{name: "ragged after CRLF quoted multi-line", text: "1,\"2\n\"\r\n3,4,5\r\n", line: 3, want: "has 3 fields, want 2"},
		{name: "field on later line of multi-line record", text: "1,2\n\"3\n\",x\n", line: 3, field: 2, want: `not a number: "x"`},
		{name: "bad quote", text: "1,2\n1,\"2\n", line: 2, want: "malformed CSV"},
		{name: "bare quote", text: "1,2\n1,2\"x\n", line: 2, want: "malformed CSV"},
		{name: "empty file", text: "", want: "t.csv: empty file"},
		{name: "only blank lines", text: "\n\r\n  \n", want: "t.csv: empty file"},
		{name: "header only", text: "a,b\n", want: "no data rows after the header on line 1"},
		{name: "target out of range", text: "1,2\n", opt: CSVOptions{Target: 2}, want: "column 2 is outside the 2 columns (0..1, or -2..-1 counting from the end)"},
		{name: "negative target out of range", text: "1,2\n", opt: CSVOptions{Target: -3}, want: "column -3 is outside the 2 columns"},
		{name: "too many targets", text: "1,2\n", opt: CSVOptions{Target: 1, Targets: 2}, want: "2 target columns from column 1 do not fit in the 2 columns"},
		{name: "all targets", text: "1,2\n", opt: CSVOptions{Targets: 2}, want: "no feature columns"},
		{name: "one-hot with several targets", text: "1,2\n", opt: CSVOptions{OneHot: 2, Targets: 2}, want: "single target column"},
		{name: "one-hot non-integer", text: "c,f\n1.5,2\n", opt: CSVOptions{OneHot: 3}, line: 2, field: 1, col: "c", want: `class label "1.5" is not an integer`},
		{name: "one-hot too many classes", text: "0,1\n1,1\n0,1\n2,1\n", opt: CSVOptions{OneHot: 2}, line: 4, field: 1, want: "class label 2 is distinct label number 3, but there are only 2 one-hot classes"},
		{name: "one-hot nan", text: "NaN,1\n", opt: CSVOptions{OneHot: 2}, line: 1, field: 1, want: "non-finite class label"},
		{name: "bad delimiter", text: "1,2\n", opt: CSVOptions{Comma: '"'}, want: "invalid CSV delimiter"},
		{name: "negative max rows", text: "1,2\n", opt: CSVOptions{MaxRows: -1}, want: "the row limit -1 is negative"},
		{name: "bad header mode", text: "1,2\n", opt: CSVOptions{Header: 7}, want: "invalid header mode"},
		{name: "long value is shortened", text: "1," + strings.Repeat("z", 500) + "\n", opt: CSVOptions{Header: HeaderNo}, line: 1, field: 2, want: `"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"...`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(tc.text), "t.csv", tc.opt)
			if err == nil {
				t.Fatalf("no error; got dataset N=%d D=%d X=%v", d.N, d.D, d.X)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "t.csv") {
				t.Errorf("error %q does not start with the file name", msg)
			}
			if !strings.Contains(msg, tc.want) {
				t.Errorf("error %q does not contain %q", msg, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("errors.Is(%q, %v) = false", msg, tc.is)
			}
			var pe *ParseError
			if tc.line == 0 {
				return
			}
			if !errors.As(err, &pe) {
				t.Fatalf("error %q is not a *ParseError", msg)
			}
			if pe.File != "t.csv" || pe.Line != tc.line || pe.Field != tc.field || pe.Name != tc.col {
				t.Errorf("ParseError{File:%q Line:%d Field:%d Name:%q}, want t.csv line %d field %d name %q",
					pe.File, pe.Line, pe.Field, pe.Name, tc.line, tc.field, tc.col)
			}
			if !strings.HasPrefix(msg, "t.csv:"+strconv.Itoa(tc.line)+": ") {
				t.Errorf("error %q does not start with t.csv:%d: ", msg, tc.line)
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	e := &ParseError{File: "file.csv", Line: 12, Field: 3, Name: "age", Msg: `not a number: "x1"`}
	if got, want := e.Error(), `file.csv:12: field 3 ("age"): not a number: "x1"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &ParseError{File: "f", Line: 2, Msg: "m"}
	if got, want := e.Error(), "f:2: m"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e = &ParseError{File: "f", Line: 2, Field: 1, Err: strconv.ErrRange}
	if got, want := e.Error(), "f:2: field 1: value out of range"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, strconv.ErrRange) {
		t.Error("Unwrap does not expose Err")
	}
}

func TestLoadCSVFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "small.csv")
	if err := os.WriteFile(path, []byte("y,a,b\n1,2,3\n4,5,6\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d, err := LoadCSV(path, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "small" || d.N != 2 || d.D != 2 || !slices.Equal(d.Y, []float32{1, 4}) {
		t.Fatalf("got %+v", d)
	}
	if err := os.WriteFile(path, []byte("y,a,b\n1,2,3\n4,5,x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadCSV(path, CSVOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), path+":3: field 3 (\"b\")") {
		t.Fatalf("error %v does not name path, line 3, field 3", err)
	}
	missing := filepath.Join(dir, "missing.csv")
	_, err = LoadCSV(missing, CSVOptions{})
	if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: error %v does not name %s / wrap ErrNotExist", err, missing)
	}
}

// TestReadCSVLarge checks growth past the preallocation with a size hint
// that underestimates (LoadCSV) and with none (ReadCSV).
func TestReadCSVLarge(t *testing.T) {
	var b strings.Builder
	const n = 5000
	for i := 0; i < n; i++ {
		// Rows get longer, so the hint from the first row is too small.
		b.WriteString(strconv.Itoa(i) + "," + strconv.Itoa(i*i) + ".25," + strconv.Itoa(-i) + "\n")
	}
	path := filepath.Join(t.TempDir(), "big.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, load := range []func() (*Dataset, error){
		func() (*Dataset, error) { return LoadCSV(path, CSVOptions{}) },
		func() (*Dataset, error) { return ReadCSV(strings.NewReader(b.String()), "big", CSVOptions{}) },
	} {
		d, err := load()
		if err != nil {
			t.Fatal(err)
		}
		if d.N != n || d.D != 2 {
			t.Fatalf("N=%d D=%d", d.N, d.D)
		}
		for i := 0; i < n; i++ {
			if d.Y[i] != float32(i) || d.X[2*i] != float32(float64(i*i)+0.25) || d.X[2*i+1] != float32(-i) {
				t.Fatalf("row %d = %v %v", i, d.Y[i], d.XRow(i))
			}
		}
	}
}
