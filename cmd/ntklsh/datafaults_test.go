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

// linear returns n rows "x1<sep>x2<sep>y" with y = 2·x1 − x2.
func linear(n int, sep string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		x1, x2 := float64(i%17)/17, float64(i%5)/5
		b.WriteString(ftoa(x1) + sep + ftoa(x2) + sep + ftoa(2*x1-x2) + "\n")
	}
	return b.String()
}

// TestDataMessagesInFlagTerms: errors about flag values name the flag, a
// directory is called a directory, and the separator is sniffed or hinted.
func TestDataMessagesInFlagTerms(t *testing.T) {
	args := func(extra ...string) []string {
		return append([]string{"--sampler", "uniform", "--iters", "20", "--batch", "8", "--hidden", "4", "--quiet"}, extra...)
	}
	p := writeFile(t, "d.csv", linear(50, ","))
	_, _, err := run(t, args("--data", p, "--target", "-4")...)
	if want := "--target -4: " + p + ":1: column -4 is outside the 3 columns"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("--target -4: %v, want %q", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "CSVOptions") {
		t.Errorf("API name in %q", err)
	}
	dir := t.TempDir()
	_, _, err = run(t, args("--data", dir)...)
	if want := dir + " is a directory, not a data file"; err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "compressed") {
		t.Errorf("directory: %v, want %q", err, want)
	}
	// ';' and tab are sniffed, whatever the file is called.
	for _, sep := range []string{";", "\t"} {
		q := writeFile(t, "semi.csv", linear(50, sep))
		if _, _, err := run(t, args("--data", q)...); err != nil {
			t.Errorf("sep %q sniffed: %v", sep, err)
		}
		flagSep := sep
		if sep == "\t" {
			flagSep = `\t`
		}
		if _, _, err := run(t, args("--data", q, "--sep", flagSep)...); err != nil {
			t.Errorf("--sep %q: %v", flagSep, err)
		}
		// The wrong separator given explicitly: a hint.
		_, _, err := run(t, args("--data", q, "--sep", ",")...)
		want := "--sep ',': " + q + ":1: the line is one column when split by ',', but " + map[string]string{";": "';'", "\t": `'\t'`}[sep] + " splits it into 3 columns: wrong separator?"
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("sep %q read with --sep ',': %v, want %q", sep, err, want)
		}
	}
	if _, _, err := run(t, args("--data", p, "--sep", "|x")...); err == nil || !strings.Contains(err.Error(), `--sep "|x": want auto, ',', ';' or '\t'`) {
		t.Errorf("bad --sep: %v", err)
	}
}

// TestTargetDefault: with a header and no --target, the column named like a
// target is the target (not column 0), the choice is printed and stored; a
// header without such a column is refused; without a header column 0 is
// used, as documented.
func TestTargetDefault(t *testing.T) {
	args := func(extra ...string) []string {
		return append([]string{"--sampler", "uniform", "--iters", "20", "--batch", "8", "--hidden", "4"}, extra...)
	}
	p := writeFile(t, "xy.csv", "x1,x2,y\n"+linear(50, ","))
	ck := filepath.Join(t.TempDir(), "ck")
	_, stderr, err := run(t, args("--data", p, "--checkpoint", ck)...)
	if err != nil {
		t.Fatal(err)
	}
	if want := `target: column 2 "y" (named like a target; --target chooses another)`; !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	lm, err := loadModel(ck)
	if err != nil {
		t.Fatal(err)
	}
	if lm.spec.Target != 2 || lm.spec.TargetName != "y" || strings.Join(lm.spec.Names, ",") != "x1,x2" {
		t.Errorf("model.json data: target %d %q, features %v", lm.spec.Target, lm.spec.TargetName, lm.spec.Names)
	}
	raw, _ := os.ReadFile(filepath.Join(ck, "model.json"))
	if !strings.Contains(string(raw), `"target_name": "y"`) && !strings.Contains(string(raw), `"target_name":"y"`) {
		t.Errorf("model.json lacks the target name:\n%s", raw)
	}
	// By name, and by index.
	if _, stderr, err := run(t, args("--data", p, "--target", "x1")...); err != nil || !strings.Contains(stderr, `target: column 0 "x1" (--target)`) {
		t.Errorf("--target x1: %v\n%s", err, stderr)
	}
	q := writeFile(t, "abc.csv", "a,b,c\n"+linear(50, ","))
	_, _, err = run(t, args("--data", q)...)
	want := "--target not given: " + q + `:1: the target column must be given: the file has a header and no column is named y, target, label, class; the columns are 0 "a", 1 "b", 2 "c"`
	if err == nil || err.Error() != want {
		t.Errorf("no target-like column: %v\nwant %s", err, want)
	}
	if _, _, err := run(t, args("--data", q, "--target", "z")...); err == nil || !strings.Contains(err.Error(), `--target z: `+q+`:1: no column is named "z"`) {
		t.Errorf("--target z: %v", err)
	}
	r := writeFile(t, "nohdr.csv", linear(50, ","))
	if _, stderr, err := run(t, args("--data", r)...); err != nil || !strings.Contains(stderr, "target: column 0 (no header: the first column by default; --target chooses another)") {
		t.Errorf("no header: %v\n%s", err, stderr)
	}
}

func predictLines(t *testing.T, ck, path string) ([]string, error) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "p.csv")
	if err := runPredict([]string{"--model", ck, "--data", path, "--out", out}, nil); err != nil {
		return nil, err
	}
	b, _ := os.ReadFile(out)
	return strings.Split(strings.TrimSpace(string(b)), "\n"), nil
}

// TestPredictColumnsByName: reordered columns are matched by name, the
// target column may be left out (by name or by count), and mismatches are
// refused naming the columns.
func TestPredictColumnsByName(t *testing.T) {
	rows := strings.Split(strings.TrimSpace(linear(40, ",")), "\n")
	p := writeFile(t, "xy.csv", "x1,x2,y\n"+strings.Join(rows, "\n")+"\n")
	ck := filepath.Join(t.TempDir(), "ck")
	if _, _, err := run(t, "--data", p, "--sampler", "uniform", "--iters", "50", "--batch", "8", "--hidden", "4", "--checkpoint", ck, "--quiet"); err != nil {
		t.Fatal(err)
	}
	want, err := predictLines(t, ck, p)
	if err != nil {
		t.Fatal(err)
	}
	variants := map[string]func(x1, x2, y string) string{
		"y,x2,x1": func(x1, x2, y string) string { return y + "," + x2 + "," + x1 },
		"x2,x1":   func(x1, x2, y string) string { return x2 + "," + x1 },
		"":        func(x1, x2, y string) string { return x1 + "," + x2 }, // no header, features only
	}
	for head, f := range variants {
		var b strings.Builder
		if head != "" {
			b.WriteString(head + "\n")
		}
		for _, r := range rows {
			c := strings.Split(r, ",")
			b.WriteString(f(c[0], c[1], c[2]) + "\n")
		}
		got, err := predictLines(t, ck, writeFile(t, "v.csv", b.String()))
		if err != nil {
			t.Errorf("header %q: %v", head, err)
			continue
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("header %q: predictions differ from the training layout's", head)
		}
	}
	bad := []struct{ text, want string }{
		{"x1,z\n1,2\n", `the columns do not match the model's (features "x1", "x2"; target "y"): missing "x2"; extra "z"`},
		{"1,2,3,4\n", "has 4 columns, but the model takes 2 features and 1 target column(s): want 2 columns (features only) or 3 (with the target at column 2)"},
	}
	for _, c := range bad {
		if _, err := predictLines(t, ck, writeFile(t, "b.csv", c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: %v, want %q", c.text, err, c.want)
		}
	}
	var out strings.Builder
	noY := writeFile(t, "noy.csv", "x2,x1\n1,2\n")
	if err := runEval([]string{"--model", ck, "--data", noY}, &out); err == nil || !strings.Contains(err.Error(), noY+" has no target column: eval needs the targets") {
		t.Errorf("eval without targets: %v", err)
	}
}

// TestEvalSplitReproducesTestLoss: eval --split test scores exactly the
// held-out part of the training run's --test-frac split.
func TestEvalSplitReproducesTestLoss(t *testing.T) {
	p := writeFile(t, "xy.csv", "x1,x2,y\n"+linear(300, ","))
	ck := filepath.Join(t.TempDir(), "ck")
	stdout, _, err := run(t, "--data", p, "--sampler", "uniform", "--iters", "200", "--batch", "8", "--hidden", "4", "--test-frac", "0.25", "--seed", "7",
		"--checkpoint", ck, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	var trainLoss, testLoss float64
	for _, line := range strings.Split(stdout, "\n") {
		if f := strings.Fields(line); len(f) > 3 && f[0] == "uniform" {
			trainLoss, _ = strconv.ParseFloat(f[1], 64)
			testLoss, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	for _, c := range []struct {
		split string
		want  float64
		n     string
	}{{"test", testLoss, "points: 75\n"}, {"train", trainLoss, "points: 225\n"}} {
		var out strings.Builder
		if err := runEval([]string{"--model", ck, "--split", c.split}, &out); err != nil {
			t.Fatal(err)
		}
		var loss float64
		for _, line := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(line, "loss: ") {
				loss, _ = strconv.ParseFloat(strings.Fields(line)[1], 64)
			}
		}
		if !strings.Contains(out.String(), c.n) || loss != c.want {
			t.Errorf("--split %s: loss %v, the training run's %v\n%s", c.split, loss, c.want, out.String())
		}
	}
}
