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
