package data

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
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
		// By index, as experiment --data gives it.
		e, err := Load(p, "parquet", CSVOptions{Target: -1, Targets: 1, Header: HeaderAuto}, LIBSVMOptions{})
		if err != nil || !slices.Equal(e.X, d.X) || !slices.Equal(e.Y, d.Y) {
			t.Fatalf("target by index: %v", err)
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

// writeParquetStructs writes rows of a Go struct type as a Parquet file,
// for schemas WriteParquet does not make.
func writeParquetStructs[T any](t testing.TB, rows []T) string {
	t.Helper()
	var b bytes.Buffer
	w := parquet.NewGenericWriter[T](&b)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "s.parquet")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

type pqNested struct {
	X float64
	A struct{ B float64 }
}
type pqRepeated struct {
	X float64
	A []float64
}
type pqDecimal struct {
	X float64
	A int32 `parquet:"a,decimal(2:9)"`
}
type pqFixed struct {
	X float64
	A [4]byte
}
type pqUnsigned struct {
	U8  uint8
	U32 uint32
	U64 uint64
	I16 int16
	Y   int64
}

func TestParquetUnsupportedColumns(t *testing.T) {
	for _, c := range []struct {
		path, want string
	}{
		{writeParquetStructs(t, []pqNested{{X: 1}}), `nested`},
		{writeParquetStructs(t, []pqRepeated{{X: 1, A: []float64{1, 2}}}), `column "A": a repeated (list) column`},
		{writeParquetStructs(t, []pqDecimal{{X: 1, A: 5}}), `column "a": a DECIMAL column is not supported`},
		{writeParquetStructs(t, []pqFixed{{X: 1}}), `column "A": physical type FIXED_LEN_BYTE_ARRAY is not supported`},
	} {
		_, err := Load(c.path, "", CSVOptions{Target: 0}, LIBSVMOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), c.path+": parquet: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want …%s", err, c.want)
		}
	}
}

func TestParquetIntegerWidths(t *testing.T) {
	p := writeParquetStructs(t, []pqUnsigned{{U8: 255, U32: 4000000000, U64: 1 << 63, I16: -300, Y: 3}, {U8: 1, U32: 2, U64: 3, I16: 4, Y: -2}})
	d, err := Load(p, "parquet", CSVOptions{GuessTarget: true, AutoClasses: true}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{255, 4e9, 1 << 63, -300, 1, 2, 3, 4}; !slices.Equal(d.X, want) {
		t.Fatalf("X = %v, want %v", d.X, want)
	}
	if !slices.Equal(d.Classes, []float64{-2, 3}) || !slices.Equal(d.Y, []float32{0, 1, 1, 0}) {
		t.Fatalf("classes %v Y %v", d.Classes, d.Y)
	}
}

func TestParquetTextAndRowGroups(t *testing.T) {
	n := 1000
	cols := []ParquetColumn{{Name: "x", Float64: make([]float64, n)}, {Name: "shape", Text: make([]string, n)}, {Name: "label", Text: make([]string, n)}}
	for i := range n {
		cols[0].Float64[i] = float64(i)
		cols[1].Text[i] = []string{"round", "square", "1"}[i%3]
		cols[2].Text[i] = []string{"yes", "no"}[i%2]
	}
	p := writeParquetFile(t, "t.parquet", cols, 97)
	_, err := Load(p, "", CSVOptions{GuessTarget: true, Categorical: true}, LIBSVMOptions{})
	if err == nil || !strings.Contains(err.Error(), `the target "label" holds text ("yes", row 1), not numbers`) {
		t.Errorf("text target without classes: %v", err)
	}
	d, err := Load(p, "", CSVOptions{GuessTarget: true, Categorical: true, AutoClasses: true, MaxRows: 500}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 500 || d.D != 4 || d.O != 2 || !slices.Equal(d.ClassLabels, []string{"no", "yes"}) {
		t.Fatalf("N=%d D=%d O=%d classes %q", d.N, d.D, d.O, d.ClassLabels)
	}
	if want := []string{"x", "shape=1", "shape=round", "shape=square"}; !slices.Equal(d.FeatureNames, want) {
		t.Fatalf("features %q", d.FeatureNames)
	}
	for i := range d.N {
		row, y := d.XRow(i), d.YRow(i)
		if row[0] != float32(i) || row[1+[]int{1, 2, 0}[i%3]] != 1 || y[1-i%2] != 1 {
			t.Fatalf("row %d: x %v y %v", i, row, y)
		}
	}
}

func TestParquetBadFiles(t *testing.T) {
	good := writeParquetFile(t, "g.parquet", []ParquetColumn{{Name: "x", Float64: []float64{1, 2}}, {Name: "y", Float64: []float64{3, 4}}}, 0)
	b, _ := os.ReadFile(good)
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty.parquet", nil, "parquet: "},
		{"text.parquet", []byte("x,y\n1,2\n"), "parquet: "},
		{"cut.parquet", b[:len(b)/2], "parquet: "},
		{"nohead.parquet", b[4:], "parquet: "},
	} {
		p := filepath.Join(dir, c.name)
		os.WriteFile(p, c.data, 0o644)
		_, err := Load(p, "", CSVOptions{}, LIBSVMOptions{})
		if err == nil || !strings.HasPrefix(err.Error(), p+": "+c.want) {
			t.Errorf("%s: err = %v", c.name, err)
		}
	}
	if _, err := Load(dir, "parquet", CSVOptions{}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if _, err := ReadParquet(bytes.NewReader(b), int64(len(b)), "g", -1); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Errorf("negative row limit: %v", err)
	}
	// A null in the target column, and the wrong number of classes.
	p := writeParquetFile(t, "n.parquet", []ParquetColumn{{Name: "x", Float64: []float64{1, 2, 3}}, {Name: "y", Int64: []int64{1, 2, 3}, Nulls: []bool{false, true, false}}}, 0)
	if _, err := Load(p, "", CSVOptions{GuessTarget: true, AutoClasses: true}, LIBSVMOptions{}); err == nil || !strings.HasSuffix(err.Error(), `n.parquet: row 2: field 2 ("y"): null value: missing values are not supported (drop or fill them first)`) {
		t.Errorf("null label: %v", err)
	}
	p = writeParquetFile(t, "k.parquet", []ParquetColumn{{Name: "x", Float64: []float64{1, 2, 3}}, {Name: "y", Text: []string{"a", "b", "c"}}}, 0)
	if _, err := Load(p, "", CSVOptions{GuessTarget: true, OneHot: 2}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), `"y" holds more than 2 distinct class labels`) {
		t.Errorf("too many classes: %v", err)
	}
}

// TestParquetManyPages: column chunks of several pages (and their
// dictionary pages) pass the page-header check and read back exactly.
func TestParquetManyPages(t *testing.T) {
	n := 150000
	x, y := make([]float64, n), make([]string, n)
	for i := range n {
		x[i] = float64(i) * 0.5
		y[i] = []string{"a", "b", "c"}[i%3]
	}
	p := writeParquetFile(t, "m.parquet", []ParquetColumn{{Name: "x", Float64: x}, {Name: "y", Text: y}}, 100000)
	d, err := Load(p, "", CSVOptions{GuessTarget: true, AutoClasses: true}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if d.X[i] != float32(x[i]) || d.Y[i*3+i%3] != 1 {
			t.Fatalf("row %d: x %v y %v", i, d.X[i], d.YRow(i))
		}
	}
}

// TestParquetHeadersCheckedBeforeAllocation: page headers and Thrift
// structures that claim more than the file holds are refused by the checks
// that run before the Parquet library decodes them.
func TestParquetHeadersCheckedBeforeAllocation(t *testing.T) {
	for _, c := range []struct {
		h    format.PageHeader
		want string
	}{
		{format.PageHeader{Type: format.DataPage, CompressedPageSize: 1 << 30, UncompressedPageSize: 10}, "claims 1073741824 bytes"},
		{format.PageHeader{Type: format.DataPage, CompressedPageSize: 0, UncompressedPageSize: 1 << 30}, "(1073741824 uncompressed)"},
	} {
		hdr, err := thrift.Marshal(new(thrift.CompactProtocol), &c.h)
		if err != nil {
			t.Fatal(err)
		}
		file := append(append([]byte("PAR1"), hdr...), make([]byte, 16)...)
		md := &format.FileMetaData{RowGroups: []format.RowGroup{{Columns: []format.ColumnChunk{{MetaData: format.ColumnMetaData{
			DataPageOffset: 4, TotalCompressedSize: int64(len(hdr) + 16)}}}}}}
		err = checkParquetPages(bytes.NewReader(file), int64(len(file)), md)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want …%s", err, c.want)
		}
	}
	md := &format.FileMetaData{RowGroups: []format.RowGroup{{Columns: []format.ColumnChunk{{MetaData: format.ColumnMetaData{DataPageOffset: 4, TotalCompressedSize: 100}}}}}}
	if err := checkParquetPages(bytes.NewReader(make([]byte, 50)), 50, md); err == nil || !strings.Contains(err.Error(), "outside the 50-byte file") {
		t.Errorf("chunk beyond the file: %v", err)
	}
	// Thrift: a list claiming 2^31 elements, a string claiming 2^30 bytes,
	// deep nesting; a good structure's length is returned.
	for _, b := range [][]byte{
		{0x19, 0xfc, 0xff, 0xff, 0xff, 0xff, 0x07}, // field 1: list of struct, 2^31−1 elements
		{0x18, 0x80, 0x80, 0x80, 0x80, 0x04, 'a'},  // field 1: binary of 2^30 bytes
		bytes.Repeat([]byte{0x1c}, 100),            // structs nested 100 deep
		{0x15},                                     // field 1: i32 missing
	} {
		if n, err := checkThriftStruct(b); err == nil {
			t.Errorf("% x: accepted (%d bytes)", b, n)
		}
	}
	good, _ := thrift.Marshal(new(thrift.CompactProtocol), &format.PageHeader{Type: format.DataPage, CompressedPageSize: 5, UncompressedPageSize: 7,
		DataPageHeader: thrift.Null[format.DataPageHeader]{Valid: true}})
	if n, err := checkThriftStruct(append(good, 1, 2, 3)); err != nil || n != len(good) {
		t.Errorf("good header: %d bytes, %v (want %d)", n, err, len(good))
	}
	// A footer longer than the file.
	p := filepath.Join(t.TempDir(), "f.parquet")
	os.WriteFile(p, []byte("PAR1\xff\xff\x00\x00PAR1"), 0o644)
	if _, err := Load(p, "", CSVOptions{}, LIBSVMOptions{}); err == nil || !strings.Contains(err.Error(), "footer of 65535 bytes in a 12-byte file") {
		t.Errorf("long footer: %v", err)
	}
}

type pqCodecRow struct {
	X float64
	S string
	Y int64
}

// TestParquetCodecs: files in every codec the library reads pass the
// page-body checks (which decode each page into its claimed size first)
// and read back exactly, with data pages of format version 1 and 2.
func TestParquetCodecs(t *testing.T) {
	rows := make([]pqCodecRow, 5000)
	for i := range rows {
		rows[i] = pqCodecRow{X: float64(i%97) * 0.25, S: []string{"a", "bb", "ccc"}[i%3], Y: int64(i % 4)}
	}
	for _, codec := range []compress.Codec{&parquet.Uncompressed, &parquet.Snappy, &parquet.Gzip, &parquet.Brotli, &parquet.Zstd, &parquet.Lz4Raw} {
		for _, version := range []int{1, 2} {
			var b bytes.Buffer
			w := parquet.NewGenericWriter[pqCodecRow](&b, parquet.Compression(codec), parquet.DataPageVersion(version), parquet.PageBufferSize(4096))
			if _, err := w.Write(rows); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			tb, err := ReadParquet(bytes.NewReader(b.Bytes()), int64(b.Len()), "c.parquet", 0)
			if err != nil {
				t.Fatalf("%s v%d: %v", codec, version, err)
			}
			d, _, err := tb.Dataset(CSVOptions{TargetName: "Y", AutoClasses: true, Categorical: true})
			if err != nil {
				t.Fatalf("%s v%d: %v", codec, version, err)
			}
			for i, r := range rows {
				x := d.XRow(i)
				if x[0] != float32(r.X) || x[1+i%3] != 1 || d.YRow(i)[r.Y] != 1 {
					t.Fatalf("%s v%d: row %d: %v %v", codec, version, i, x, d.YRow(i))
				}
			}
		}
	}
}
