package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
)

// writeFruitParquet writes a 3-class set whose labels are words and one of
// whose features is categorical (text), as Parquet.
func writeFruitParquet(t *testing.T, dir string, n int, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	size := data.ParquetColumn{Name: "size", Float64: make([]float64, n)}
	color := data.ParquetColumn{Name: "color", Text: make([]string, n)}
	weight := data.ParquetColumn{Name: "weight", Float32: make([]float32, n)}
	id := data.ParquetColumn{Name: "id", Int64: make([]int64, n)}
	kind := data.ParquetColumn{Name: "kind", Text: make([]string, n)}
	for i := range n {
		k := rng.IntN(3)
		kind.Text[i] = []string{"apple", "cherry", "pear"}[k]
		color.Text[i] = []string{"red", "red", "green"}[k]
		if rng.IntN(5) == 0 {
			color.Text[i] = "yellow"
		}
		size.Float64[i] = []float64{1, 0.3, 1.2}[k] + 0.1*rng.NormFloat64()
		weight.Float32[i] = float32([]float64{10, 3, 11}[k] + rng.NormFloat64())
		id.Int64[i] = int64(i)
	}
	var b bytes.Buffer
	if err := data.WriteParquet(&b, []data.ParquetColumn{id, size, color, weight, kind}, 256); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "fruit.parquet")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestParquetTextLabelsCategorical: a Parquet file with word labels and a
// text feature trains with --loss xent --categorical auto --features; the
// encoding goes into model.json; predict prints the words and eval reads
// them back; unseen labels and categories are errors naming file, row,
// column and value.
func TestParquetTextLabelsCategorical(t *testing.T) {
	dir := t.TempDir()
	p := writeFruitParquet(t, dir, 600, 1)
	ck := filepath.Join(dir, "model")
	args := []string{"--data", p, "--target", "kind", "--features", "size,color,weight", "--loss", "xent", "--lr", "0.1", "--iters", "400",
		"--sampler", "ntk-static", "--quiet"}
	// Without --categorical auto the text column is refused, with a hint.
	if _, _, err := run(t, args...); err == nil || !strings.Contains(err.Error(), `--categorical refuse: `+p+`: "color" holds text ("red", row 1), not numbers`) ||
		!strings.Contains(err.Error(), "pass --categorical auto") {
		t.Fatalf("text column without --categorical auto: %v", err)
	}
	if _, _, err := run(t, append(args, "--features", "size,colour")...); err == nil || !strings.Contains(err.Error(), `--features colour: `) ||
		!strings.Contains(err.Error(), `no column is named "colour"; the columns are 0 "id", 1 "size", 2 "color", 3 "weight", 4 "kind"`) {
		t.Fatalf("unknown feature: %v", err)
	}
	if _, _, err := run(t, append(args, "--categorical", "yes")...); err == nil || !strings.Contains(err.Error(), `--categorical "yes": want refuse or auto`) {
		t.Fatalf("bad --categorical: %v", err)
	}
	if _, _, err := run(t, append(args, "--categorical", "auto", "--checkpoint", ck)...); err != nil {
		t.Fatal(err)
	}
	meta, _ := os.ReadFile(filepath.Join(ck, "model.json"))
	for _, s := range []string{`"class_labels"`, `"apple"`, `"categories"`, `"yellow"`, `"encoding"`} {
		if !bytes.Contains(meta, []byte(s)) {
			t.Errorf("model.json lacks %s", s)
		}
	}
	var eo bytes.Buffer
	if err := runEval([]string{"--model", ck, "--data", p, "--split", "test"}, &eo); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"accuracy: ", "confusion matrix", " apple", " cherry", " pear"} {
		if !strings.Contains(eo.String(), s) {
			t.Errorf("eval output lacks %q:\n%s", s, eo.String())
		}
	}
	// A new file, another order of rows: predict prints the words.
	q := writeFruitParquet(t, t.TempDir(), 50, 9)
	var po bytes.Buffer
	if err := runPredict([]string{"--model", ck, "--data", q}, &po); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(po.String()), "\n")
	if len(lines) != 51 || lines[0] != "predicted_class,score_apple,score_cherry,score_pear" {
		t.Fatalf("predictions: %d lines, header %q", len(lines), lines[0])
	}
	for _, l := range lines[1:] {
		if w := strings.Split(l, ",")[0]; w != "apple" && w != "cherry" && w != "pear" {
			t.Fatalf("predicted %q", w)
		}
	}
	// A CSV with the same columns (another order, the label words) evaluates too.
	c := filepath.Join(dir, "more.csv")
	os.WriteFile(c, []byte("kind,weight,color,size,id\npear,11,green,1.2,0\ncherry,3,red,0.3,1\n"), 0o644)
	eo.Reset()
	if err := runEval([]string{"--model", ck, "--data", c, "--format", "csv"}, &eo); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(eo.String(), "points: 2") {
		t.Errorf("eval of the CSV:\n%s", eo.String())
	}
	for _, bad := range []struct{ text, want string }{
		{"kind,weight,color,size\npear,11,green,1.2\nplum,3,red,0.3\n", `bad.csv:3: field 1 ("kind"): class label "plum" was not among the training classes ["apple" "cherry" "pear"]`},
		{"kind,weight,color,size\npear,11,blue,1.2\n", `bad.csv:2: field 3 ("color"): category "blue" was not seen in training (the categories are ["green" "red" "yellow"])`},
	} {
		b := filepath.Join(dir, "bad.csv")
		os.WriteFile(b, []byte(bad.text), 0o644)
		if err := runEval([]string{"--model", ck, "--data", b}, &eo); err == nil || !strings.HasSuffix(err.Error(), bad.want) {
			t.Errorf("err = %v\nwant …%s", err, bad.want)
		}
	}
}

// TestCSVTextLabelsNoHeader: an iris-like CSV without a header, the label
// words in the last column, trains with --loss xent --target -1; predict
// matches columns by position and prints the words.
func TestCSVTextLabelsNoHeader(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(4, 5))
	var b strings.Builder
	for range 300 {
		k := rng.IntN(2)
		b.WriteString(strings.Join([]string{ftoa(float64(k) + 0.2*rng.NormFloat64()), ftoa(rng.NormFloat64()), []string{"Iris-setosa", "Iris-virginica"}[k]}, ",") + "\n")
	}
	p := filepath.Join(dir, "iris.data")
	os.WriteFile(p, []byte(b.String()), 0o644)
	ck := filepath.Join(dir, "m")
	if _, _, err := run(t, "--data", p, "--format", "csv", "--target", "-1", "--loss", "xent", "--lr", "0.1", "--iters", "300",
		"--sampler", "uniform", "--quiet", "--checkpoint", ck); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "q.csv")
	os.WriteFile(q, []byte("1.1,0\n-0.1,0\n"), 0o644)
	var po bytes.Buffer
	if err := runPredict([]string{"--model", ck, "--data", q}, &po); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(po.String()), "\n")
	if lines[0] != "predicted_class,score_Iris-setosa,score_Iris-virginica" || !strings.HasPrefix(lines[1], "Iris-virginica,") || !strings.HasPrefix(lines[2], "Iris-setosa,") {
		t.Fatalf("predictions:\n%s", po.String())
	}
	var eo bytes.Buffer
	if err := runEval([]string{"--model", ck, "--data", p}, &eo); err != nil || !strings.Contains(eo.String(), "accuracy: ") {
		t.Fatalf("eval: %v\n%s", err, eo.String())
	}
}

// TestDigitsNPZAndParquet: data/digits.npz and data/digits.parquet (made by
// docs/datasets/digits.sh) load to the same data set. Skipped without them.
func TestDigitsNPZAndParquet(t *testing.T) {
	root := filepath.Join("..", "..", "data")
	npz, pq := filepath.Join(root, "digits.npz"), filepath.Join(root, "digits.parquet")
	for _, p := range []string{npz, pq} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("%s absent: run bash docs/datasets/digits.sh", p)
		}
	}
	opt := data.CSVOptions{GuessTarget: true, AutoClasses: true}
	a, err := data.Load(npz, "", opt, data.LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := data.Load(pq, "", opt, data.LIBSVMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.N != 1797 || a.D != 64 || a.O != 10 || b.N != a.N || b.D != a.D || b.O != a.O {
		t.Fatalf("shapes %d×%d→%d and %d×%d→%d, want 1797×64→10", a.N, a.D, a.O, b.N, b.D, b.O)
	}
	if !slices.Equal(a.X, b.X) || !slices.Equal(a.Y, b.Y) || !slices.Equal(a.Classes, b.Classes) {
		t.Fatal("digits.npz and digits.parquet hold different data")
	}
}
