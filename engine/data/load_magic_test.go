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
