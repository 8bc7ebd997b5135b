package main

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestTrainChecksEveryFlag: flags that used to be accepted silently.
func TestTrainChecksEveryFlag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--epochs", "-1"}, "--epochs -1"},
		{[]string{"--epochs", "NaN"}, "--epochs NaN"},
		{[]string{"--target-loss", "NaN"}, "--target-loss NaN"},
		{[]string{"--target-loss", "-2"}, "--target-loss -2"},
		{[]string{"--targets", "0"}, "--targets 0"},
		{[]string{"--onehot", "1"}, "--onehot 1"},
		{[]string{"--onehot", "3", "--iters", "10"}, "--onehot 3 needs --data"},
		{[]string{"--hidden", ""}, "--hidden is empty"},
		{[]string{"--hidden", " "}, "--hidden is empty"},
		{[]string{"--batch", "5000"}, "--batch 5000 is larger than the 480 training points"},
		{[]string{"--rehash-batch", "1000000000"}, "--rehash-batch 1000000000"},
		{[]string{"--workers", "100000"}, "--workers 100000"},
		{[]string{"--syn-d", "0"}, "--syn-d 0"},
		{[]string{"--syn-n", "100000000", "--syn-d", "1000"}, "--syn-n 100000000"},
		{[]string{"--syn-tail", "0.5"}, "--syn-tail 0.5"},
		{[]string{"--syn-noise", "NaN"}, "--syn-noise NaN"},
	}
	for _, c := range cases {
		_, _, err := run(t, append(append([]string{}, small...), c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.args, err, c.want)
		}
	}
	// A linear model is asked for explicitly.
	if _, _, err := run(t, append(append([]string{}, small...), "--hidden", "0", "--sampler", "uniform")...); err != nil {
		t.Errorf("--hidden 0 (linear model): %v", err)
	}
}

// TestSummaryShowsNoNaN: no test set and no diagnostics print "–" and say
// why once, never NaN.
func TestSummaryShowsNoNaN(t *testing.T) {
	out, _, err := run(t, append(append([]string{}, small...), "--test-frac", "0", "--diag-subset", "0", "--sampler", "uniform,ntk-static,upper-bound")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(out), "nan") {
		t.Errorf("summary shows NaN:\n%s", out)
	}
	for _, want := range []string{"–", "test loss –: no test set", "2nd-moment ratio and ideal –: no diagnostics"} {
		if strings.Count(out, want) < 1 {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "no test set") != 1 {
		t.Errorf("the reason should be said once:\n%s", out)
	}
	out, _, err = run(t, append(append([]string{}, small...), "--sampler", "upper-bound")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "NaN") || !strings.Contains(out, "upper-bound sampler has no per-draw probability") {
		t.Errorf("upper-bound summary:\n%s", out)
	}
}

// TestDivergingSamplerIsReported: a sampler that diverges is a row of the
// summary ("diverged at iteration k") and the comparison goes on.
func TestDivergingSamplerIsReported(t *testing.T) {
	out, _, err := run(t, "--sampler", "ntk-static,uniform", "--syn-n", "400", "--syn-d", "4", "--hidden", "8", "--iters", "400", "--batch", "8",
		"--lr", "3", "--quiet")
	if err == nil || !strings.Contains(err.Error(), "2 of 2 samplers did not finish") {
		t.Fatalf("error %v", err)
	}
	if strings.Count(out, "diverged at iteration") != 2 || !strings.Contains(out, "uniform") || !strings.Contains(out, "ntk-static") {
		t.Fatalf("summary should report both runs:\n%s", out)
	}
}

// TestCheckpointDirProbedAtStart: an unwritable --checkpoint is refused
// before training, and no checkpoint is claimed.
func TestCheckpointDirProbedAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	start := time.Now()
	_, _, err := run(t, append(append([]string{}, small...), "--sampler", "uniform", "--iters", "100000", "--checkpoint", filepath.Join(file, "ck"))...)
	if err == nil || !strings.Contains(err.Error(), "--checkpoint "+filepath.Join(file, "ck")) || strings.Contains(err.Error(), "last good checkpoint") {
		t.Fatalf("error %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("refused after %v: the probe should come before training", d)
	}
}

// TestInterruptWithoutCheckpointPrintsSummary: SIGINT without --checkpoint
// still prints the summary of what was done, and exits with status 130.
func TestInterruptWithoutCheckpointPrintsSummary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a training process")
	}
	cmd := command(append(append([]string{}, runFlags...), "--sampler", "uniform,lsh", "--eval-every", "500", "--quiet=false", "--log-format", "json")...)
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	runs := 0
	for sc.Scan() {
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		if ev["event"] == "run" {
			runs++
		}
		// Interrupt the second sampler's run after a few evaluations.
		if runs == 2 && ev["event"] == "eval" && ev["iter"].(float64) >= 1500 {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("exit %v, want status 130; stdout:\n%s", err, stdout.String())
	}
	out := stdout.String()
	for _, want := range []string{"summary", "uniform", "lsh", "interrupted at iteration"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
}
