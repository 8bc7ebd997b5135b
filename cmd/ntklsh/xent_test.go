package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
)

// writeClassCSV writes a 3-class set with a header and integer labels.
func writeClassCSV(t *testing.T, n int) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	b.WriteString("a,b,c,label\n")
	for i := 0; i < n; i++ {
		a, c, d := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		lab := 2
		if a+c > 0.5 {
			lab = 0
		} else if a-d > 0 {
			lab = 1
		}
		fmt.Fprintf(&b, "%.4f,%.4f,%.4f,%d\n", a, c, d, lab+5) // labels 5, 6, 7
	}
	p := filepath.Join(t.TempDir(), "cls.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTrainEvalXent: --loss xent trains a classifier with every sampler
// of the comparison, the summary shows accuracies and says the loss is the
// cross-entropy, the checkpoint records the loss, and eval prints
// accuracy, cross-entropy and the confusion matrix over the labels.
func TestTrainEvalXent(t *testing.T) {
	p := writeClassCSV(t, 900)
	out, _, err := run(t, "--data", p, "--target", "label", "--onehot", "3", "--loss", "xent", "--lr", "0.1", "--iters", "600",
		"--sampler", "uniform,ntk-static,lsh,upper-bound,true,loss,ntk-exact", "--quiet", "--diag-subset", "100")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"softmax cross-entropy", "train acc", "test acc", "upper-bound", "ntk-exact"} {
		if !strings.Contains(out, s) {
			t.Errorf("summary lacks %q:\n%s", s, out)
		}
	}
	dir := filepath.Join(t.TempDir(), "m")
	if _, _, err := run(t, "--data", p, "--target", "label", "--onehot", "3", "--loss", "xent", "--lr", "0.1", "--iters", "600",
		"--sampler", "ntk-static", "--quiet", "--checkpoint", dir); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(dir, "model.json"))
	if !bytes.Contains(meta, []byte(`"loss": "xent"`)) && !bytes.Contains(meta, []byte(`"loss":"xent"`)) {
		t.Errorf("model.json does not record the loss:\n%s", meta)
	}
	var eo bytes.Buffer
	if err := runEval([]string{"--model", dir, "--data", p, "--split", "test"}, &eo); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"accuracy: 0.9", "cross-entropy:", "confusion matrix", "     5", "     7"} {
		if !strings.Contains(eo.String(), s) {
			t.Errorf("eval output lacks %q:\n%s", s, eo.String())
		}
	}
	// Without --onehot the classes are the distinct labels of the column.
	auto := filepath.Join(t.TempDir(), "auto")
	if _, _, err := run(t, "--data", p, "--target", "label", "--loss", "xent", "--lr", "0.1", "--iters", "600",
		"--sampler", "ntk-static", "--quiet", "--checkpoint", auto); err != nil {
		t.Fatalf("xent with the classes taken from the labels: %v", err)
	}
	var ea bytes.Buffer
	if err := runEval([]string{"--model", auto, "--data", p, "--split", "test"}, &ea); err != nil {
		t.Fatal(err)
	}
	if ea.String() != eo.String() {
		t.Errorf("xent without --onehot 3 evaluates differently from with it:\n%s\nvs\n%s", ea.String(), eo.String())
	}
	if _, _, err := run(t, "--data", p, "--target", "label", "--onehot", "3", "--loss", "hinge", "--quiet"); err == nil {
		t.Error("--loss hinge accepted")
	}
}

// TestTrainEvalNPY: a .npy matrix (label in the last column) trains a
// classifier under xent, and eval reads the same file back.
func TestTrainEvalNPY(t *testing.T) {
	csvPath := writeClassCSV(t, 600)
	raw, _ := os.ReadFile(csvPath)
	var v []float32
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")[1:]
	for _, l := range lines {
		for _, f := range strings.Split(l, ",") {
			var x float32
			fmt.Sscan(f, &x)
			v = append(v, x)
		}
	}
	var b bytes.Buffer
	if err := data.WriteNPY(&b, len(lines), 4, v); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "cls.npy")
	os.WriteFile(p, b.Bytes(), 0o644)
	dir := filepath.Join(t.TempDir(), "m")
	out, _, err := run(t, "--data", p, "--onehot", "3", "--loss", "xent", "--lr", "0.1", "--iters", "600", "--sampler", "uniform", "--quiet", "--checkpoint", dir)
	if err != nil || !strings.Contains(out, "test acc") {
		t.Fatalf("%v\n%s", err, out)
	}
	var eo bytes.Buffer
	if err := runEval([]string{"--model", dir, "--data", p, "--split", "test"}, &eo); err != nil || !strings.Contains(eo.String(), "accuracy: 0.9") {
		t.Fatalf("%v\n%s", err, eo.String())
	}
}
