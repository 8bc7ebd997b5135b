package data

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompressedNameWithoutCompression(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"x.csv.gz", "x.csv.bz2"} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte("1,2\n3,4\n"), 0o644)
		_, err := Load(p, "", CSVOptions{}, LIBSVMOptions{})
		if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "magic bytes") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLoadProgress(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.csv")
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString("1,2,3\n")
	}
	os.WriteFile(p, []byte(b.String()), 0o644)
	var last, total int64
	calls := 0
	d, err := LoadProgress(p, "", CSVOptions{}, LIBSVMOptions{}, func(done, tot int64) { last, total = done, tot; calls++ })
	if err != nil || d.N != 20000 {
		t.Fatal(err)
	}
	if calls < 2 || last != int64(b.Len()) || total != int64(b.Len()) {
		t.Errorf("progress: %d calls, last %d of %d, file %d bytes", calls, last, total, b.Len())
	}
}
