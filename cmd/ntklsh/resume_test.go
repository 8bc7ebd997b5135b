package main

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/kernels"
)

// summaryFields returns the whitespace-separated fields of the summary row
// of sampler s.
func summaryFields(t *testing.T, out, s string) []string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 5 && f[0] == s {
			return f
		}
	}
	t.Fatalf("no summary row for %s:\n%s", s, out)
	return nil
}

// TestResumeFinishedRun: resuming a finished run (it used to panic for the
// samplers with tables) reports it; more iterations extend it; the summary
// covers the whole run (wall ≥ training seconds).
func TestResumeFinishedRun(t *testing.T) {
	for _, s := range []string{"lsh", "ntk-static", "ntk-exact"} {
		dir := filepath.Join(t.TempDir(), "ck")
		args := append(append([]string{}, small...), "--sampler", s, "--iters", "100")
		if _, _, err := run(t, append(append([]string{}, args...), "--checkpoint", dir)...); err != nil {
			t.Fatal(err)
		}
		out, errOut, err := run(t, append(append([]string{}, args...), "--resume", dir)...)
		if err != nil {
			t.Fatalf("%s: resuming a finished run: %v", s, err)
		}
		if !strings.Contains(errOut, "is finished (iteration 100 of 100): nothing to train") || summaryFields(t, out, s)[5] != "100" {
			t.Fatalf("%s: stderr %q\nstdout %s", s, errOut, out)
		}
		args[len(args)-1] = "250"
		out, errOut, err = run(t, append(append([]string{}, args...), "--resume", dir, "--schedule", "cosine")...)
		if err == nil || !strings.Contains(err.Error(), "Schedule: checkpoint constant, now cosine") {
			t.Fatalf("%s: another schedule accepted: %v", s, err)
		}
		out, errOut, err = run(t, append(append([]string{}, args...), "--resume", dir)...)
		if err != nil {
			t.Fatalf("%s: extending: %v", s, err)
		}
		row := summaryFields(t, out, s)
		if row[5] != "250" || !strings.Contains(errOut, "extending the run from 100 to 250 iterations") {
			t.Fatalf("%s: extended run: %q\n%s", s, errOut, out)
		}
		trainS, _ := strconv.ParseFloat(row[3], 64)
		wallS, _ := strconv.ParseFloat(row[4], 64)
		if wallS < trainS {
			t.Fatalf("%s: wall %v < training %v s after resuming", s, wallS, trainS)
		}
		args[len(args)-1] = "50"
		if _, _, err := run(t, append(append([]string{}, args...), "--resume", dir)...); err == nil || !strings.Contains(err.Error(), "beyond this run's 50 iterations") {
			t.Fatalf("%s: shrinking: %v", s, err)
		}
	}
}

// TestResumeOnOtherBackendWarns: the continuation on another kernel backend
// is accepted, with a warning that it is not bit-exact.
func TestResumeOnOtherBackendWarns(t *testing.T) {
	names := kernels.Names()
	var other string
	for _, n := range names {
		if _, _, err := kernels.Select(n); err == nil && n != "generic" && n != "cuda" {
			other = n
		}
	}
	if other == "" {
		t.Skip("only the generic backend is usable here")
	}
	dir := filepath.Join(t.TempDir(), "ck")
	args := append(append([]string{}, small...), "--sampler", "uniform", "--iters", "40")
	if _, _, err := run(t, append(append([]string{}, args...), "--checkpoint", dir, "--kernels", other)...); err != nil {
		t.Fatal(err)
	}
	args[len(args)-1] = "80"
	_, errOut, err := run(t, append(append([]string{}, args...), "--resume", dir, "--kernels", "generic")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "written by the "+other+" kernel backend and this run uses generic: the continuation is not bit-exact") {
		t.Fatalf("no warning: %q", errOut)
	}
	_, errOut, err = run(t, append(append([]string{}, args...), "--resume", dir, "--kernels", "generic", "--iters", "90")...)
	if err != nil || strings.Contains(errOut, "not bit-exact") {
		t.Fatalf("same backend warned: %v %q", err, errOut)
	}
}
