package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gzipBytes(t *testing.T, text string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	smallCSVX = []float32{0.5, -1, 3, 2, 0, 1e-3, -4.25, 7, 0}
	smallCSVY = []float32{2001, 1999, 2010}
	smallSVMX = []float32{0.5, 0, -2, 0, 4, 0, 1, 1, 1}
	smallSVMY = []float32{1, -1, 1}
)

func TestLoadBzip2(t *testing.T) {
	d, err := Load("testdata/small.csv.bz2", "", CSVOptions{}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "small" || !slices.Equal(d.X, smallCSVX) || !slices.Equal(d.Y, smallCSVY) ||
		!slices.Equal(d.FeatureNames, []string{"f1", "f2", "f3"}) {
		t.Fatalf("got %+v", d)
	}
	d, err = Load("testdata/small.libsvm.bz2", "", CSVOptions{}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.D != 3 || !slices.Equal(d.X, smallSVMX) || !slices.Equal(d.Y, smallSVMY) {
		t.Fatalf("got %+v", d)
	}
}

func TestLoadGzipAndDetection(t *testing.T) {
	dir := t.TempDir()
	csvText := "year,f1,f2,f3\n2001,0.5,-1,3\n1999,2,0,1e-3\n2010,-4.25,7,0\n"
	svmText := "# tiny LIBSVM sample\n1 1:0.5 3:-2\n-1 2:4 qid:3\n+1 1:1 2:1 3:1\n"
	bz, err := os.ReadFile("testdata/small.csv.bz2")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		file   string
		data   []byte
		format string
		svm    bool // expect the LIBSVM content
	}{
		{file: "a.csv.gz", data: gzipBytes(t, csvText)},
		{file: "a.CSV.GZ", data: gzipBytes(t, csvText)},
		{file: "a.csv", data: gzipBytes(t, csvText)}, // gzip found by magic bytes
		{file: "a.dat", data: bz},                    // bzip2 by magic, CSV by content
		{file: "a.libsvm.gz", data: gzipBytes(t, svmText), svm: true},
		{file: "a.svm", data: []byte(svmText), svm: true},
		{file: "a.scale", data: []byte(svmText), svm: true},
		{file: "a.txt", data: []byte(svmText), svm: true}, // sniffed
		{file: "a.txt.gz", data: gzipBytes(t, csvText)},   // sniffed: UCI-style CSV .txt
		{file: "a.tsv", data: []byte(strings.ReplaceAll(csvText, ",", "\t"))},
		{file: "noext", data: []byte(strings.ReplaceAll(csvText, ",", ";"))},
		{file: "forced.dat", data: []byte(svmText), format: "libsvm", svm: true},
		{file: "forced.libsvm", data: []byte(csvText), format: "csv"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			writeFile(t, path, tc.data)
			d, err := Load(path, tc.format, CSVOptions{}, LIBSVMOptions{})
			if err != nil {
				t.Fatal(err)
			}
			wantX, wantY := smallCSVX, smallCSVY
			if tc.svm {
				wantX, wantY = smallSVMX, smallSVMY
			}
			if !slices.Equal(d.X, wantX) || !slices.Equal(d.Y, wantY) {
				t.Fatalf("X=%v Y=%v, want %v %v", d.X, d.Y, wantX, wantY)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	full := gzipBytes(t, strings.Repeat("1,2,3\n", 1000))
	tests := []struct {
		file, format string
		data         []byte // nil: do not create
		want         string
	}{
		{file: "missing.csv", want: "no such file"},
		{file: "x.csv", format: "xml", data: []byte("1,2\n"), want: `unknown format "xml"`},
		{file: "trunc.csv.gz", data: full[:len(full)/2], want: "unexpected EOF"},
		{file: "badgz.csv", data: []byte{0x1f, 0x8b, 0, 0, 0}, want: "gzip"},
		{file: "badbz.csv", data: []byte("BZh9garbage-garbage"), want: "bzip2"},
		{file: "empty.txt", data: []byte{}, want: "empty file"},
		{file: "empty.csv", data: []byte{}, want: "empty file"},
		{file: "spaces.txt", data: []byte("1 2 3\n"), want: "cannot tell the format"},
		{file: "bad.csv.gz", data: gzipBytes(t, "a,b\n1,2\n3,oops\n"), want: `:3: field 2 ("b"): not a number: "oops"`},
		{file: "bad.libsvm.gz", data: gzipBytes(t, "1 1:1\n1 2:1 1:1\n"), want: ":2: field 3: index 1 not greater"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if tc.data != nil {
				writeFile(t, path, tc.data)
			}
			_, err := Load(path, tc.format, CSVOptions{}, LIBSVMOptions{})
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain the path and %q", err, tc.want)
			}
		})
	}
	_, err := Load(filepath.Join(dir, "missing.csv"), "", CSVOptions{}, LIBSVMOptions{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file error %v does not wrap os.ErrNotExist", err)
	}
	_, err = LoadLIBSVM(filepath.Join(dir, "missing.svm"), LIBSVMOptions{})
	if err == nil || !strings.Contains(err.Error(), "missing.svm") {
		t.Errorf("LoadLIBSVM missing file error %v", err)
	}
}

func TestDatasetName(t *testing.T) {
	for path, want := range map[string]string{
		"data/YearPredictionMSD.txt.bz2": "YearPredictionMSD",
		"a/b/train.csv":                  "train",
		"x.libsvm.gz":                    "x",
		"higgs.t":                        "higgs.t",
		".csv":                           ".csv",
	} {
		if got := datasetName(path); got != want {
			t.Errorf("datasetName(%q) = %q, want %q", path, got, want)
		}
	}
}
