package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// npyBytes builds a .npy stream with the given header dict and raw data.
func npyBytes(dict string, raw []byte) []byte {
	h := dict + "\n"
	b := []byte(npyMagic + "\x01\x00")
	b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	return append(append(b, h...), raw...)
}

func TestNPYRoundTripAndTarget(t *testing.T) {
	var buf bytes.Buffer
	v := []float32{1, 2, 10, 3, 4, 11, 5, 6, 10}
	if err := WriteNPY(&buf, 3, 3, v); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%64 != 3*3*4%64 && (buf.Len()-36)%64 != 0 {
		t.Logf("header not 64-aligned: %d bytes", buf.Len()-36)
	}
	d, err := ReadNPY(bytes.NewReader(buf.Bytes()), "m.npy", NPYOptions{Target: -1})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.D != 2 || d.O != 1 || d.X[2] != 3 || d.Y[1] != 11 || d.TargetColumn != 2 {
		t.Fatalf("got N=%d D=%d O=%d X=%v Y=%v col %d", d.N, d.D, d.O, d.X, d.Y, d.TargetColumn)
	}
	d, err = ReadNPY(bytes.NewReader(buf.Bytes()), "m.npy", NPYOptions{Target: 2, OneHot: 2})
	if err != nil {
		t.Fatal(err)
	}
	if d.O != 2 || fmt.Sprint(d.Classes) != "[10 11]" || fmt.Sprint(d.Y) != "[1 0 0 1 1 0]" {
		t.Fatalf("one-hot: O=%d classes %v Y %v", d.O, d.Classes, d.Y)
	}
}

func TestNPYDtypes(t *testing.T) {
	cases := []struct {
		descr string
		raw   []byte
		want  string
	}{
		{"<f8", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 0x3ff0000000000000), 0x4000000000000000), "[1 2]"},
		{"<i8", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), ^uint64(2)), "[7 -3]"},
		{"<i2", []byte{0xff, 0xff, 5, 0}, "[-1 5]"},
		{"|u1", []byte{200, 3}, "[200 3]"},
		{"|b1", []byte{1, 0}, "[1 0]"},
		{"<u4", []byte{1, 0, 0, 0, 0, 1, 0, 0}, "[1 256]"},
	}
	for _, c := range cases {
		b := npyBytes(fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (2,), }", c.descr), c.raw)
		a, err := readNPY(bytes.NewReader(b), "v.npy")
		if err != nil {
			t.Fatalf("%s: %v", c.descr, err)
		}
		if got := fmt.Sprint(a.data); got != c.want {
			t.Errorf("%s: %s, want %s", c.descr, got, c.want)
		}
	}
}

func TestNPYErrors(t *testing.T) {
	f4 := func(shape string, n int) []byte {
		return npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': "+shape+", }", make([]byte, 4*n))
	}
	cases := []struct {
		b    []byte
		opt  NPYOptions
		want string
	}{
		{[]byte("a,b\n1,2\n"), NPYOptions{}, "not a .npy file"},
		{npyBytes("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }", make([]byte, 8)), NPYOptions{}, "dtype \">f4\" is not supported"},
		{npyBytes("{'descr': '<c16', 'fortran_order': False, 'shape': (1, 2), }", nil), NPYOptions{}, "not supported"},
		{npyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (1, 2), }", make([]byte, 8)), NPYOptions{}, "fortran_order"},
		{f4("(2, 3)", 5), NPYOptions{}, "data ends after"},
		{f4("(1000000000, 1000)", 4), NPYOptions{}, "more than 2^31"},
		{f4("(100000000, 10)", 4), NPYOptions{}, "data ends after 0 of the 1000000000 values"},
		{f4("(2, 2000000)", 0), NPYOptions{}, "columns is more than"},
		{f4("(2, 3, 4)", 24), NPYOptions{}, "1 or 2 dimensions"},
		{f4("(3,)", 3), NPYOptions{}, "want a matrix"},
		{f4("(2, 3)", 6), NPYOptions{Target: 5}, "outside the 3 columns"},
		{f4("(0, 3)", 0), NPYOptions{}, "no rows"},
		{npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", binary.LittleEndian.AppendUint32(make([]byte, 4), 0x7fc00000)), NPYOptions{}, "bad.npy:1: field 1 (\"features\"): value NaN"},
		{npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }", binary.LittleEndian.AppendUint32(make([]byte, 4), 0x3f000000)), NPYOptions{Target: 1, OneHot: 2}, "class label 0.5 is not an integer"},
	}
	for _, c := range cases {
		d, err := ReadNPY(bytes.NewReader(c.b), "bad.npy", c.opt)
		if err == nil || d != nil || !strings.HasPrefix(err.Error(), "bad.npy") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming bad.npy with %q, got %v", c.want, err)
		}
	}
}

// writeNPZ writes an .npz with the given members.
func writeNPZ(t *testing.T, members map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "d.npz")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for name, b := range members {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	f.Close()
	return p
}

func TestNPZ(t *testing.T) {
	var x bytes.Buffer
	WriteNPY(&x, 3, 2, []float32{1, 2, 3, 4, 5, 6})
	y := npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }",
		binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 4), 9), 4))
	p := writeNPZ(t, map[string][]byte{"X.npy": x.Bytes(), "y.npy": y, "other.npy": []byte("junk")})
	d, err := Load(p, "", CSVOptions{GuessTarget: true, OneHot: 2}, LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 3 || d.D != 2 || d.O != 2 || fmt.Sprint(d.Classes) != "[4 9]" || fmt.Sprint(d.Y) != "[1 0 0 1 1 0]" || d.Name != "d" {
		t.Fatalf("npz: %+v", d)
	}
	// Regression targets, and a .npy file by extension through Load.
	p2 := writeNPZ(t, map[string][]byte{"x.npy": x.Bytes(), "y.npy": y})
	if d, err = Load(p2, "", CSVOptions{}, LIBSVMOptions{}); err != nil || d.O != 1 || d.Y[1] != 9 {
		t.Fatalf("npz regression: %v %+v", err, d)
	}
	p3 := filepath.Join(t.TempDir(), "m.npy")
	os.WriteFile(p3, x.Bytes(), 0o644)
	if d, err = Load(p3, "", CSVOptions{GuessTarget: true}, LIBSVMOptions{}); err != nil || d.D != 1 || d.Y[2] != 6 {
		t.Fatalf("npy by extension: %v %+v", err, d)
	}
	for _, c := range []struct {
		m    map[string][]byte
		want string
	}{
		{map[string][]byte{"y.npy": y}, "no array named x or X"},
		{map[string][]byte{"x.npy": x.Bytes(), "y.npy": y[:len(y)-3]}, "d.npz:y.npy: npy: data ends"},
		{map[string][]byte{"x.npy": x.Bytes(), "y.npy": npyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", make([]byte, 8))}, "y.npy has 2 rows, x.npy 3"},
	} {
		p := writeNPZ(t, c.m)
		if _, err := Load(p, "", CSVOptions{}, LIBSVMOptions{}); err == nil || !strings.HasPrefix(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("want an error naming %s with %q, got %v", p, c.want, err)
		}
	}
}

func FuzzReadNPY(f *testing.F) {
	var x bytes.Buffer
	WriteNPY(&x, 2, 3, []float32{1, 2, 3, 4, 5, 6})
	f.Add(x.Bytes(), -1, 0)
	f.Add(x.Bytes(), 0, 2)
	f.Add(npyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", make([]byte, 16)), 1, 2)
	f.Add(npyBytes("{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2), }", []byte{1, 2, 3, 4}), 0, 0)
	f.Add(npyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999, 2), }", make([]byte, 16)), 0, 0)
	f.Fuzz(func(t *testing.T, b []byte, target, oneHot int) {
		if oneHot < 0 || oneHot > 64 {
			return
		}
		d, err := ReadNPY(bytes.NewReader(b), "f.npy", NPYOptions{Target: target, OneHot: oneHot})
		checkFuzzResult(t, "f.npy", d, err)
	})
}
