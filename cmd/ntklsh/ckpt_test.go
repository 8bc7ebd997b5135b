package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/ntklsh/ntklsh/engine/checkpoint"
)

// TestMain lets the tests run this binary as the ntklsh command.
func TestMain(m *testing.M) {
	if os.Getenv("NTKLSH_RUN_MAIN") == "1" {
		os.Args = append([]string{"ntklsh"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "NTKLSH_RUN_MAIN=1")
	return cmd
}

var runFlags = []string{"train", "--sampler", "lsh", "--syn-n", "3000", "--syn-d", "8", "--hidden", "16", "--iters", "30000",
	"--batch", "16", "--momentum", "0.5", "--schedule", "cosine", "--rehash-every", "700", "--eval-every", "10000", "--diag-subset", "50", "--quiet"}

func params(t *testing.T, dir string) []float32 {
	t.Helper()
	c, err := checkpoint.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c.Params
}

// TestInterruptAndResumeBitExact interrupts a training process with SIGINT
// (it must write a checkpoint and exit with status 130), resumes it, and
// checks the final weights against an uninterrupted run bit for bit.
func TestInterruptAndResumeBitExact(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training processes")
	}
	tmp := t.TempDir()
	full, part := filepath.Join(tmp, "full"), filepath.Join(tmp, "part")
	if out, err := command(append(runFlags, "--checkpoint", full)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	cmd := command(append(runFlags, "--checkpoint", part, "--checkpoint-every", "1000", "--quiet=false", "--log-format", "json")...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	var tail bytes.Buffer
	for sc.Scan() {
		tail.WriteString(sc.Text() + "\n")
		var ev map[string]any
		if json.Unmarshal(sc.Bytes(), &ev) == nil && ev["event"] == "checkpoint" && ev["iter"].(float64) >= 3000 {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	go func() {
		for sc.Scan() {
			tail.WriteString(sc.Text() + "\n")
		}
	}()
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 130 {
		t.Fatalf("interrupted run exited with %v, want status 130\n%s", err, tail.String())
	}
	c, err := checkpoint.Read(part)
	if err != nil {
		t.Fatal(err)
	}
	var tm trainingMeta
	json.Unmarshal(c.Meta.Training, &tm)
	if tm.Finished || tm.State.Iter >= 30000 {
		t.Fatalf("the interrupted checkpoint is at iteration %d (finished %v)", tm.State.Iter, tm.Finished)
	}
	t.Logf("interrupted at iteration %d", tm.State.Iter)
	if out, err := command(append(runFlags, "--resume", part)...).CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	a, b := params(t, full), params(t, part)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("parameter %d: resumed %v, uninterrupted %v", i, b[i], a[i])
		}
	}
}

func TestResumeRefusesOtherRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	base := []string{"--sampler", "uniform", "--syn-n", "400", "--syn-d", "4", "--hidden", "8", "--iters", "50", "--batch", "8", "--quiet"}
	if _, _, err := run(t, append(base, "--checkpoint", dir)...); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--hidden", "9"}, "architecture 4-8-1 (relu), but this run builds 4-9-1"},
		{[]string{"--lr", "0.5"}, "LR: checkpoint 0.02, now 0.5"},
		{[]string{"--syn-noise", "0.3"}, "other training data"},
		{[]string{"--seed", "2"}, "--seed"},
	}
	for _, c := range cases {
		args := append(append(append([]string{}, base...), c.args...), "--resume", dir)
		_, _, err := run(t, args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error containing %q", c.args, err, c.want)
		}
	}
	// A corrupted file: a clear error naming it.
	p := filepath.Join(dir, checkpoint.FileName)
	raw, _ := os.ReadFile(p)
	raw[len(raw)-5] ^= 0xff
	os.WriteFile(p, raw, 0o644)
	_, _, err := run(t, append(base, "--resume", dir)...)
	if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), p) {
		t.Errorf("corrupted checkpoint: %v", err)
	}
	os.WriteFile(p, raw[:100], 0o644)
	if _, _, err := run(t, append(base, "--resume", dir)...); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated checkpoint: %v", err)
	}
}

func TestPredictAndEval(t *testing.T) {
	dir := t.TempDir()
	dataPath := filepath.Join(dir, "cls.csv")
	var b strings.Builder
	b.WriteString("label,x1,x2\n")
	for i := 0; i < 600; i++ {
		x1, x2 := float64(i%13)/13-0.5, float64(i%7)/7-0.5
		label := "10"
		if x1+x2 > 0 {
			label = "20"
		}
		b.WriteString(label + "," + ftoa(x1) + "," + ftoa(x2) + "\n")
	}
	os.WriteFile(dataPath, []byte(b.String()), 0o644)
	ck := filepath.Join(dir, "model")
	if _, _, err := run(t, "--data", dataPath, "--onehot", "2", "--sampler", "ntk-static", "--iters", "1500", "--batch", "16", "--lr", "0.05",
		"--hidden", "16", "--checkpoint", ck, "--quiet"); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runEval([]string{"--model", ck, "--data", dataPath}, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "accuracy: ") {
		t.Fatal(out.String())
	}
	var acc float64
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "accuracy: ") {
			acc, _ = strconv.ParseFloat(strings.TrimPrefix(line, "accuracy: "), 64)
		}
	}
	if acc < 0.9 {
		t.Errorf("accuracy %g on a linearly separable set", acc)
	}
	predPath := filepath.Join(dir, "pred.csv")
	if err := runPredict([]string{"--model", ck, "--data", dataPath, "--out", predPath}, &out); err != nil {
		t.Fatal(err)
	}
	pred, _ := os.ReadFile(predPath)
	lines := strings.Split(strings.TrimSpace(string(pred)), "\n")
	if len(lines) != 601 || lines[0] != "predicted_class,score_10,score_20" || !(strings.HasPrefix(lines[1], "10,") || strings.HasPrefix(lines[1], "20,")) {
		t.Fatalf("predictions: %d lines, header %q, first %q", len(lines), lines[0], lines[1])
	}
	// A data file with a different number of features is refused clearly.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("label,x1\n10,0.5\n"), 0o644)
	if err := runEval([]string{"--model", ck, "--data", bad}, &out); err == nil || !strings.Contains(err.Error(), "features") {
		t.Errorf("wrong width: %v", err)
	}
	if err := runEval([]string{"--model", filepath.Join(dir, "nope"), "--data", dataPath}, &out); err == nil {
		t.Error("missing model accepted")
	}
}

// TestDivergenceKeepsCheckpoint: a learning rate that blows up stops with a
// message naming the iteration, sampler and weights, and the checkpoint
// written before stays readable and finite.
func TestDivergenceKeepsCheckpoint(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ck")
	_, _, err := run(t, "--sampler", "ntk-static", "--syn-n", "400", "--syn-d", "4", "--hidden", "8", "--iters", "400", "--batch", "8",
		"--lr", "3", "--checkpoint", dir, "--checkpoint-every", "2", "--quiet")
	if err == nil {
		t.Fatal("lr 3 did not diverge")
	}
	for _, want := range []string{"diverged at iteration", "sampler ntk-static", "largest importance weight", "last good checkpoint in " + dir} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	c, rerr := checkpoint.Read(dir)
	if rerr != nil {
		t.Fatalf("checkpoint lost after divergence: %v", rerr)
	}
	for _, v := range c.Params {
		if v != v {
			t.Fatal("the kept checkpoint holds NaN")
		}
	}
}

// TestExtendAcrossSamplerState: a checkpoint written with a background
// rehash in flight (its parameter snapshot travels as the background.w0
// tensor) and one written after ntk-drift fitted its λ are extended to a
// longer run; the final parameters equal an uninterrupted run's bit for
// bit (constant schedule: stretching it changes nothing).
func TestExtendAcrossSamplerState(t *testing.T) {
	cases := [][]string{
		{"--sampler", "ntk-static", "--background-rehash", "--rehash-lag", "10", "--rehash-workers", "1"},
		{"--sampler", "ntk-drift", "--drift-lambda", "-1"},
	}
	for _, extra := range cases {
		base := append([]string{"--syn-n", "400", "--syn-d", "4", "--hidden", "8", "--batch", "8", "--rehash-every", "25",
			"--momentum", "0.5", "--eval-every", "30", "--quiet"}, extra...)
		tmp := t.TempDir()
		full, part := filepath.Join(tmp, "full"), filepath.Join(tmp, "part")
		if _, _, err := run(t, append(base, "--iters", "90", "--checkpoint", full)...); err != nil {
			t.Fatal(err)
		}
		if _, _, err := run(t, append(base, "--iters", "55", "--checkpoint", part)...); err != nil {
			t.Fatal(err)
		}
		c, err := checkpoint.Read(part)
		if err != nil {
			t.Fatal(err)
		}
		var tm trainingMeta
		if err := json.Unmarshal(c.Meta.Training, &tm); err != nil {
			t.Fatal(err)
		}
		if extra[1] == "ntk-static" && (!tm.State.Pending || c.PendingW0 == nil) {
			t.Fatalf("%v: no background rehash in flight at iteration %d (pending %v)", extra, tm.State.Iter, tm.State.Pending)
		}
		if extra[1] == "ntk-drift" && tm.State.DriftLambda == nil {
			t.Fatalf("%v: the checkpoint lacks the fitted λ", extra)
		}
		if _, _, err := run(t, append(base, "--iters", "90", "--resume", part)...); err != nil {
			t.Fatalf("%v: resume: %v", extra, err)
		}
		a, b := params(t, full), params(t, part)
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("%v: parameter %d: extended %v, uninterrupted %v", extra, i, b[i], a[i])
			}
		}
	}
}
