package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// writeFile writes text to name in a fresh temporary directory.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTrainHugeLIBSVMIndex is the reported fault: one line with index
// 2000000000 used to allocate 7.8 GB and die; it is refused at once.
func TestTrainHugeLIBSVMIndex(t *testing.T) {
	if data.MaxFeatures != nn.MaxWidth {
		t.Fatalf("data.MaxFeatures %d != nn.MaxWidth %d", data.MaxFeatures, nn.MaxWidth)
	}
	var b strings.Builder
	b.WriteString("1 1:0.5 2000000000:1\n")
	for i := 1; i <= 30; i++ {
		b.WriteString("1 1:0." + strconv.Itoa(i) + " 2:0.2\n")
	}
	p := writeFile(t, "h.libsvm", b.String())
	_, _, err := run(t, append(append([]string{}, small...), "--data", p)...)
	want := p + ":1: field 3: feature index 2000000000 exceeds the limit of 1048576 features"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want %q", err, want)
	}
}
