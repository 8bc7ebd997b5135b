package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// flagValues are the values the property test draws for each train flag:
// ordinary ones and the edge and absurd ones users type.
var flagValues = map[string][]string{
	"--batch":         {"1", "8", "16", "0", "-3", "100000", "x"},
	"--iters":         {"1", "20", "40", "0", "-1", "1e3"},
	"--epochs":        {"0", "0.5", "-1", "NaN", "Inf", "2000000"},
	"--lr":            {"0.01", "0.1", "0", "-1", "NaN", "1e9"},
	"--schedule":      {"constant", "cosine", "linear", "step"},
	"--momentum":      {"0", "0.9", "1", "-0.5", "NaN"},
	"--eps":           {"0", "0.1", "1", "2", "NaN"},
	"--K":             {"1", "2", "0", "40"},
	"--L":             {"1", "16", "0", "100000"},
	"--hidden":        {"8", "4,4", "0", "", "x", "-2", "99999999"},
	"--act":           {"relu", "tanh", "sigmoid"},
	"--sampler":       {"uniform", "lsh", "ntk-static", "upper-bound", "uniform,ntk-static", "magic", ""},
	"--test-frac":     {"0", "0.2", "0.99", "1", "-0.1", "NaN"},
	"--diag-subset":   {"0", "10", "100000", "-5"},
	"--eval-every":    {"0", "5", "-1"},
	"--target":        {"0", "-1", "1", "7", "-9"},
	"--targets":       {"1", "2", "0", "-1"},
	"--onehot":        {"0", "3", "1", "-2"},
	"--header":        {"auto", "yes", "no", "maybe"},
	"--target-loss":   {"0", "0.5", "NaN", "-1"},
	"--rehash-batch":  {"0", "16", "1000000000", "-1"},
	"--workers":       {"0", "1", "2", "-1", "1000000"},
	"--keep-stepping": {"0", "2", "-1"},
	"--step-growth":   {"1", "2", "0", "NaN"},
	"--max-rows":      {"0", "5", "-1"},
	"--prob":          {"exact", "lgd", "odd"},
	"--presample":     {"1", "3", "0"},
	"--tau-th":        {"1.5", "0.5", "NaN"},
}

// randomDataFile writes a small data file, valid or not.
func randomDataFile(r *rand.Rand, dir string, k int) string {
	var b strings.Builder
	name := fmt.Sprintf("d%d.csv", k)
	switch r.IntN(8) {
	case 0: // header and numbers
		b.WriteString("x1,x2,y\n")
		for i := 0; i < 20+r.IntN(40); i++ {
			fmt.Fprintf(&b, "%g,%g,%g\n", r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
		}
	case 1: // no header
		for i := 0; i < 20+r.IntN(40); i++ {
			fmt.Fprintf(&b, "%g,%g,%g,%d\n", r.NormFloat64(), r.NormFloat64(), r.NormFloat64(), r.IntN(3))
		}
	case 2: // ragged
		b.WriteString("1,2,3\n4,5\n6,7,8\n")
	case 3: // junk fields, NaN
		b.WriteString("1,2,3\n4,nan,6\n7,8,x\n")
	case 4: // empty
	case 5: // LIBSVM, one huge index
		name = fmt.Sprintf("d%d.libsvm", k)
		b.WriteString("1 1:0.5 2000000000:1\n")
		for i := 0; i < 30; i++ {
			fmt.Fprintf(&b, "%d 1:0.%d 2:0.2\n", i%2, i)
		}
	case 6: // LIBSVM, valid
		name = fmt.Sprintf("d%d.libsvm", k)
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "%g 1:%g 3:%g\n", r.NormFloat64(), r.NormFloat64(), r.NormFloat64())
		}
	case 7: // constant column, one row
		b.WriteString("1,1,1\n")
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		panic(err)
	}
	return p
}

// TestTrainCLIProperty drives `ntklsh train` with random flag combinations
// and random small files, valid and invalid, and checks: no panic; exit
// status 0, 1 or 2; a failure is one line that names a flag or the file; a
// summary never shows NaN.
func TestTrainCLIProperty(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	r := rand.New(rand.NewPCG(11, 12))
	dir := t.TempDir()
	names := make([]string, 0, len(flagValues))
	for k := range flagValues {
		names = append(names, k)
	}
	// Map iteration order is random; sort for a reproducible stream.
	sortStrings(names)
	codes := map[int]int{}
	for k := 0; k < n; k++ {
		args := []string{"train", "--quiet", "--syn-n", "200", "--syn-d", "3", "--hidden", "4", "--iters", "20", "--batch", "8", "--sampler", "uniform"}
		file := ""
		if r.IntN(2) == 0 {
			file = randomDataFile(r, dir, k)
			args = append(args, "--data", file)
		}
		used := []string{}
		for _, i := range r.Perm(len(names))[:1+r.IntN(4)] {
			f := names[i]
			v := flagValues[f][r.IntN(len(flagValues[f]))]
			args = append(args, f, v)
			used = append(used, strings.TrimPrefix(f, "--"))
		}
		var out, errb bytes.Buffer
		var code int
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("%q panicked: %v", args, p)
				}
			}()
			code = dispatch(args, &out, &errb)
		}()
		codes[code]++
		switch code {
		case 0:
			if strings.Contains(out.String(), "NaN") {
				t.Errorf("%q: summary shows NaN:\n%s", args, out.String())
			}
		case 1, 2:
			msg := strings.TrimSpace(errb.String())
			if code == 2 {
				break // the flag package's usage text follows its one-line error
			}
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("%q: error is not one line:\n%s", args, msg)
			}
			named := file != "" && strings.Contains(msg, filepath.Base(file))
			for _, u := range append(used, "batch", "iters", "hidden", "sampler", "syn-n") {
				named = named || strings.Contains(msg, u)
			}
			if !named {
				t.Errorf("%q: error names no flag or file: %s", args, msg)
			}
		default:
			t.Errorf("%q: exit status %d", args, code)
		}
	}
	t.Logf("exit statuses over %d runs: %v", n, codes)
	if codes[0] < n/10 || codes[1] < n/10 {
		t.Errorf("the draws should both succeed and fail often: %v", codes)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
