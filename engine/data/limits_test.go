package data

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// allocDuring returns the bytes allocated while f runs.
func allocDuring(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestLIBSVMHugeIndexRefusedEarly: one huge index in a small file is
// refused before anything sized by it is allocated. (The fault used index
// 2000000000, which passed the dense-size guard on row 1 and cost 7.8 GB;
// 20000000 keeps the old code's cost here to a few hundred MB.)
func TestLIBSVMHugeIndexRefusedEarly(t *testing.T) {
	for _, idx := range []string{"20000000", "2000000000"} {
		var b strings.Builder
		b.WriteString("1 1:0.5 " + idx + ":1\n")
		for i := 0; i < 3; i++ {
			b.WriteString("1 1:0.3 2:0.2\n")
		}
		p := filepath.Join(t.TempDir(), "h.libsvm")
		os.WriteFile(p, []byte(b.String()), 0o644)
		var err error
		alloc := allocDuring(func() { _, err = Load(p, "", CSVOptions{}, LIBSVMOptions{}) })
		if err == nil {
			t.Fatalf("index %s accepted", idx)
		}
		want := p + ":1: field 3: feature index " + idx + " exceeds the limit of 1048576 features"
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q, want it to contain %q", err, want)
		}
		if alloc > 16<<20 {
			t.Errorf("index %s: %d MB allocated before the refusal", idx, alloc>>20)
		}
	}
}

// TestLIBSVMDenseGuardEveryRow: the dense-size limit holds however the
// rows reach it, not only when a new largest index appears.
func TestLIBSVMDenseGuardEveryRow(t *testing.T) {
	text := "1 500:1\n" + strings.Repeat("1 1:1\n", 10)
	_, err := ReadLIBSVM(strings.NewReader(text), "g.svm", LIBSVMOptions{MaxDense: 1000})
	if err == nil || !strings.Contains(err.Error(), "g.svm:3: 3 rows of 500 features exceed the limit of 1000 values") {
		t.Fatalf("error %v", err)
	}
}

// TestCSVWideLineRefusedEarly: a one-line CSV with millions of fields is
// refused while it is read, naming the file and line, without building the
// record.
func TestCSVWideLineRefusedEarly(t *testing.T) {
	const fields = 3 << 20
	row := bytes.Repeat([]byte("1,"), fields)
	row[len(row)-1] = '\n'
	p := filepath.Join(t.TempDir(), "wide.csv")
	os.WriteFile(p, row, 0o644)
	var err error
	alloc := allocDuring(func() { _, err = Load(p, "", CSVOptions{}, LIBSVMOptions{}) })
	if err == nil {
		t.Fatal("a row of 3M fields accepted")
	}
	want := p + ":1: more than 1048577 fields on the line (the limit is 1048576 features)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	if alloc > 3*uint64(len(row)) {
		t.Errorf("%d MB allocated for a %d MB file before the refusal", alloc>>20, len(row)>>20)
	}
	// Just under the limit still loads.
	ok := bytes.Repeat([]byte("1,"), 2000)
	ok[len(ok)-1] = '\n'
	if d, err := ReadCSV(bytes.NewReader(ok), "ok.csv", CSVOptions{}); err != nil || d.D != 1999 {
		t.Fatalf("2000 fields: %v", err)
	}
}
