package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTrainStepSizeLog: --step-size gn writes its diagnostics into the last
// five columns of the CSV log's iteration rows (empty for the fixed step,
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
	if n := len(head); head[n-5] != "step_size" || head[n-1] != "lambda" || head[18] != "nonempty_buckets" {
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
		step, err := strconv.ParseFloat(r[len(r)-4], 64)
		if r[len(r)-5] != "gn" || err != nil || !(step > 0 && step <= 1) {
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
		if strings.HasPrefix(line, "iter,") && !strings.HasSuffix(line, ",,,,,") {
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
