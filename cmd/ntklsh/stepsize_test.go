package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestTrainStepSizeLog: --step-size gn writes its diagnostics into the last
// six columns of the CSV log's iteration rows (empty for the fixed step,
// whose other columns keep their positions) and into the JSON lines;
// newton runs the linear model; bad values are refused.
func TestTrainStepSizeLog(t *testing.T) {
	dir := t.TempDir()
	logp := filepath.Join(dir, "log.csv")
	if _, _, err := run(t, append(append([]string(nil), small...), "--sampler", "uniform", "--step-size", "gn", "--lr", "1", "--log", logp)...); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(logp)
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	head := rows[0]
	if n := len(head); head[n-6] != "step_size" || head[n-2] != "lambda" || head[n-1] != "rejected" || head[18] != "nonempty_buckets" {
		t.Fatalf("columns %v", head)
	}
	iters := 0
	for _, r := range rows[1:] {
		if len(r) != len(head) {
			t.Fatalf("row of %d fields, header %d", len(r), len(head))
		}
		if r[0] != "iter" {
			continue
		}
		iters++
		step, err := strconv.ParseFloat(r[len(r)-5], 64)
		if r[len(r)-6] != "gn" || err != nil || !(step > 0 && step <= 1) || r[len(r)-1] != "true" && r[len(r)-1] != "false" {
			t.Fatalf("iteration row %v", r)
		}
	}
	if iters != 60 {
		t.Errorf("%d iteration rows", iters)
	}
	// Fixed: the new columns are empty.
	if _, _, err := run(t, append(append([]string(nil), small...), "--sampler", "uniform", "--step-size", "fixed", "--log", logp)...); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(logp)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "iter,") && !strings.HasSuffix(line, ",,,,,,") {
			t.Fatalf("fixed-step row with step columns: %q", line)
		}
	}
	jl := filepath.Join(dir, "log.jsonl")
	if _, _, err := run(t, append(append([]string(nil), small...), "--sampler", "ntk-static", "--step-size", "gn", "--momentum", "0.9", "--log", jl)...); err != nil {
		t.Fatal(err)
	}
	jf, _ := os.Open(jl)
	sc := bufio.NewScanner(jf)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatal(err)
		}
		if rec["kind"] == "iter" {
			if rec["step_size"] != "gn" || rec["step_t"] == nil || rec["lambda"] == nil || rec["pred_decrease"] == nil {
				t.Fatalf("JSON iteration row %v", rec)
			}
		}
	}
	jf.Close()
	out, _, err := run(t, "--syn-n", "300", "--syn-d", "4", "--hidden", "0", "--batch", "240", "--iters", "3", "--lr", "1", "--step-size", "newton",
		"--sampler", "uniform", "--diag-subset", "50", "--quiet")
	if err != nil || !strings.Contains(out, "uniform") {
		t.Fatalf("newton: %v\n%s", err, out)
	}
	if _, _, err := run(t, append(append([]string(nil), small...), "--step-size", "newton")...); err == nil || !strings.Contains(err.Error(), "--hidden 0") {
		t.Errorf("newton with a hidden layer: %v", err)
	}
	if _, _, err := run(t, append(append([]string(nil), small...), "--step-size", "fixedgn")...); err == nil {
		t.Error("--step-size fixedgn accepted")
	}
}

// TestTrainStepSizeProgress: under --step-size gn the progress lines carry
// the mean step t, λ, the mean predicted and actual decrease and the
// rejected steps since the previous row (dashes on the row before the
// first step), and --log-format json's eval events the same fields; the
// fixed step's lines are as before.
func TestTrainStepSizeProgress(t *testing.T) {
	base := append(append([]string(nil), small...), "--sampler", "uniform", "--quiet=false", "--eval-every", "20")
	_, errOut, err := run(t, append(base, "--step-size", "gn", "--lr", "1")...)
	if err != nil {
		t.Fatal(err)
	}
	var head []string
	rows := 0
	for _, line := range strings.Split(errOut, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && f[0] == "iter" {
			head = f
			continue
		}
		if head == nil || len(f) != len(head) {
			continue
		}
		if _, err := strconv.Atoi(f[0]); err != nil {
			continue
		}
		rows++
		if f[0] == "0" {
			if f[len(f)-5] != "-" || f[len(f)-1] != "-" {
				t.Errorf("first row %q: want dashes in the step columns", line)
			}
			continue
		}
		tm, err1 := strconv.ParseFloat(f[len(f)-5], 64)
		lambda, err2 := strconv.ParseFloat(f[len(f)-4], 64)
		pred, err3 := strconv.ParseFloat(f[len(f)-3], 64)
		_, err4 := strconv.ParseFloat(f[len(f)-2], 64)
		rej, err5 := strconv.Atoi(f[len(f)-1])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || err5 != nil || !(tm > 0 && tm <= 1) || lambda < 0 || !(pred > 0) || rej < 0 || rej > 20 {
			t.Errorf("progress row %q", line)
		}
	}
	if want := []string{"step_t", "lambda", "pred_dec", "act_dec", "rej"}; head == nil || !slices.Equal(head[len(head)-5:], want) {
		t.Fatalf("progress header %v, want it to end in %v\n%s", head, want, errOut)
	}
	if rows != 4 {
		t.Errorf("%d progress rows, want 4 (iterations 0, 20, 40, 60)\n%s", rows, errOut)
	}
	_, errOut, err = run(t, append(base, "--step-size", "gn", "--lr", "1", "--log-format", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	evals := 0
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		var ev map[string]any
		if json.Unmarshal([]byte(line), &ev) != nil || ev["event"] != "eval" || ev["iter"].(float64) == 0 {
			continue
		}
		evals++
		if ev["steps"] != 20.0 || ev["step_t_mean"] == nil || ev["lambda"] == nil || ev["pred_decrease_mean"] == nil || ev["actual_decrease_mean"] == nil || ev["rejected_steps"] == nil {
			t.Errorf("eval event %v", ev)
		}
	}
	if evals != 3 {
		t.Errorf("%d eval events after iteration 0, want 3", evals)
	}
	_, errOut, err = run(t, base...)
	if err != nil || strings.Contains(errOut, "step_t") || strings.Contains(errOut, "lambda") {
		t.Errorf("fixed step: %v\n%s", err, errOut)
	}
}

// TestTrainXentGN: --loss xent --step-size gn trains a classifier (accuracy
// in the summary) and logs its steps; --step-size newton with xent is
// refused with a message that points to gn.
func TestTrainXentGN(t *testing.T) {
	p := writeClassCSV(t, 900)
	logp := filepath.Join(t.TempDir(), "log.csv")
	args := []string{"--data", p, "--target", "label", "--onehot", "3", "--loss", "xent", "--iters", "300", "--diag-subset", "100", "--quiet"}
	out, _, err := run(t, append(args, "--sampler", "uniform,ntk-static", "--step-size", "gn", "--lr", "5", "--log", logp)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "train acc") || !strings.Contains(out, "ntk-static") {
		t.Errorf("summary:\n%s", out)
	}
	b, _ := os.ReadFile(logp)
	if n := strings.Count(string(b), ",gn,"); n != 600 {
		t.Errorf("%d gn iteration rows in the log, want 600", n)
	}
	_, _, err = run(t, append(args, "--hidden", "0", "--step-size", "newton")...)
	if err == nil || !strings.Contains(err.Error(), "newton") || !strings.Contains(err.Error(), "step-size gn") {
		t.Errorf("newton with xent: %v", err)
	}
}
