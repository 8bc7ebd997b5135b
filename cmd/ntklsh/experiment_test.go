package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExperimentAllSmoke runs every experiment (time-to-target included)
// at the smoke scale and
// checks that each writes its CSV, Markdown and PNG outputs, that the
// convergence run picks up the ablation's best configuration, and that
// nothing is printed on stderr when it is not a terminal.
func TestExperimentAllSmoke(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := runExperiment([]string{"all", "--scale", "smoke", "--out", dir}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	if errb.Len() != 0 {
		t.Fatalf("stderr is not a terminal, yet got %q", errb.String())
	}
	d := filepath.Join(dir, "smoke")
	for _, f := range []string{"ablation.csv", "ablation_summary.md", "ablation_best.json", "ablation_ratio_vs_K.png",
		"kl.csv", "kl_summary.md", "kl_vs_width_o1_epoch.png", "kl_o3_w8_r10.png",
		"convergence_smoke.csv", "convergence_smoke_summary.csv", "convergence_smoke_summary.md",
		"convergence_smoke_iters.png", "convergence_smoke_seconds.png", "convergence_smoke_iters_ks.png",
		"ttt_smoke_runs.csv", "ttt_smoke_grid.csv", "ttt_smoke_summary.csv", "ttt_smoke_summary.md", "ttt_summary.md",
		"ttt_smoke_seconds.png", "ttt_smoke_iters.png", "ttt_smoke_ratio.png"} {
		st, err := os.Stat(filepath.Join(d, f))
		if err != nil || st.Size() == 0 {
			t.Errorf("%s: missing or empty (%v)", f, err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(d, "ablation_best.json"))
	if err != nil {
		t.Fatal(err)
	}
	var best struct{ Hash struct{ K, L int } }
	if err := json.Unmarshal(raw, &best); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "(from "+filepath.Join(d, "ablation_best.json")+")") {
		t.Errorf("convergence did not use the ablation's best configuration:\n%s", out.String())
	}
	sum, _ := os.ReadFile(filepath.Join(d, "convergence_smoke_summary.csv"))
	for _, m := range []string{"uniform", "true", "lsh-epoch", "lsh-r50", "lsh-best", "ntk-static", "ntk-exact", "upper-bound", "loss", "uniform+ks"} {
		if !strings.Contains(string(sum), "smoke,"+m+",") {
			t.Errorf("summary lacks method %s", m)
		}
	}
}

func TestExperimentBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"magic"}, ""},
		{[]string{"kl", "--scale", "huge"}, `--scale "huge"`},
		{[]string{"convergence", "--scale", "smoke", "--methods", "uniform,nope", "--out", "OUT"}, `unknown method "nope"`},
		{[]string{"convergence", "--step-growth", "0.5"}, "--step-growth 0.5 outside [1, 10]"},
		{[]string{"convergence", "--lr", "-0.1"}, "--lr -0.1 outside [0, 100]"},
		{[]string{"convergence", "--lr", "NaN"}, "--lr NaN outside [0, 100]"},
		{[]string{"convergence", "--schedule", "step"}, `--schedule "step": want constant, linear or cosine`},
		{[]string{"convergence", "--scale", "smoke", "--best", "/nonexistent/best.json", "--out", "OUT"}, "no such file"},
		{[]string{"time-to-target", "--scale", "smoke", "--methods", "lsh-epoch", "--out", "OUT"}, `unknown method "lsh-epoch"`},
		{[]string{"time-to-target", "--clip-norm", "0"}, "--clip-norm 0 outside"},
		{[]string{"time-to-target", "--tune-seeds", "-1"}, "--tune-seeds -1 outside"},
		{[]string{"time-to-target", "--lr-points", "1"}, "--lr-points 1 outside"},
		{[]string{"time-to-target", "--extend", "-2"}, "--extend -2 outside"},
		{[]string{"time-to-target", "--scale", "large", "--teachers", "3", "--widths", "0", "--out", "OUT"}, "--widths \"0\""},
		{[]string{"time-to-target", "--scale", "smoke", "--tuned", "/nonexistent", "--out", "OUT"}, "--tuned: open /nonexistent/ttt_smoke_grid.csv"},
		{[]string{"time-to-target", "--loss", "hinge"}, `--loss "hinge": want mse or xent`},
		{[]string{"kl", "--scale", "smoke", "--kl-rows", "xent", "--out", "OUT"}, `--kl-rows "xent": want all, base or loss`},
		{[]string{"time-to-target", "--loss", "xent", "--onehot", "1"}, "--onehot 1: want 0 or a number of classes"},
		{[]string{"time-to-target", "--loss", "xent", "--onehot", "3"}, "--onehot 3: only with --loss xent and --data"},
		{[]string{"time-to-target", "--scale", "smoke", "--loss", "xent", "--data", "REG", "--out", "OUT"},
			"reg.csv has 1 target column(s) and no class labels; give --onehot K"},
	} {
		for i, a := range c.args {
			if a == "OUT" {
				c.args[i] = t.TempDir()
			}
			if a == "REG" {
				c.args[i] = filepath.Join(t.TempDir(), "reg.csv")
				if err := os.WriteFile(c.args[i], []byte("y,a\n1,2\n3,4\n5,6\n7,8\n9,1\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		var out, errb bytes.Buffer
		err := runExperiment(c.args, &out, &errb)
		if err == nil {
			t.Errorf("%v: accepted", c.args)
			continue
		}
		if c.want == "" {
			if err != errUsage {
				t.Errorf("%v: %v, want usage error", c.args, err)
			}
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want %q", c.args, err, c.want)
		}
	}
}

// TestExperimentLRScheduleFlags checks that --lr and --schedule reach the
// runs: the summary names the step size and schedule actually used.
func TestExperimentLRScheduleFlags(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"convergence", "--scale", "smoke", "--out", dir, "--seeds", "1", "--methods", "uniform,ntk-static",
		"--lr", "0.0123", "--schedule", "cosine"}
	if err := runExperiment(args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "smoke", "convergence_smoke_summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "lr 0.0123 (cosine schedule)") {
		t.Errorf("summary does not report the flags' lr and schedule:\n%s", md)
	}
}

// TestExperimentTimeToTargetSmoke runs the time-to-target smoke preset
// alone with a subset of methods and keep-stepping asked for: the +ks
// variants appear, uniform is kept as the baseline, and the Markdown
// table names the chosen learning rate and schedule of every method.
func TestExperimentTimeToTargetSmoke(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	args := []string{"time-to-target", "--scale", "smoke", "--out", dir, "--methods", "ntk-static,lsh-paper+ks,uniform-clip", "--keep-stepping", "2"}
	if err := runExperiment(args, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "smoke", "ttt_summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"uniform", "uniform-clip", "ntk-static", "lsh-paper+ks"} {
		if !strings.Contains(string(md), "| "+m+" | ") {
			t.Errorf("summary lacks %s:\n%s", m, md)
		}
	}
	if strings.Contains(string(md), "| lsh | ") || !strings.Contains(string(md), "Target test loss") {
		t.Errorf("summary:\n%s", md)
	}
}

// TestExperimentTimeToTargetXent runs the classification presets at the
// smoke scale: the class teacher, and a --data CSV with a class column
// (--onehot): both write the accuracy columns and targets, and the gn
// methods run with the cross-entropy (generalized Gauss–Newton), nothing
// left out.
func TestExperimentTimeToTargetXent(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if err := runExperiment([]string{"time-to-target", "--scale", "smoke", "--loss", "xent", "--out", dir, "--methods", "ntk-static,uniform-gn"},
		&out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	if strings.Contains(out.String(), "Left out") ||
		!strings.Contains(out.String(), "time-to-target smoke-xent (target test cross-entropy") {
		t.Errorf("stdout:\n%s", out.String())
	}
	md, err := os.ReadFile(filepath.Join(dir, "smoke", "ttt_smoke-xent_summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "Target test accuracy") || !strings.Contains(string(md), "class-teacher-t3") ||
		!strings.Contains(string(md), "| uniform-gn |") {
		t.Errorf("summary:\n%s", md)
	}
	// A CSV with a class column (labels 3, 5, 7) and two features.
	var csv strings.Builder
	csv.WriteString("a,b,label\n")
	for i := 0; i < 120; i++ {
		a, b := float64(i%11)-5, float64(i%7)-3
		label := 3
		switch {
		case a+b > 2:
			label = 7
		case a-b > 1:
			label = 5
		}
		fmt.Fprintf(&csv, "%g,%g,%d\n", a, b, label)
	}
	path := filepath.Join(t.TempDir(), "cls.csv")
	if err := os.WriteFile(path, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := runExperiment([]string{"time-to-target", "--scale", "smoke", "--loss", "xent", "--data", path, "--target", "2", "--onehot", "3",
		"--out", dir, "--methods", "ntk-static"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s%s", err, out.String(), errb.String())
	}
	sum, err := os.ReadFile(filepath.Join(dir, "smoke", "ttt_smoke-cls_summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.SplitN(string(sum), "\n", 2)[0], ",target_test_acc,") || !strings.Contains(string(sum), ",xent,") {
		t.Errorf("summary CSV:\n%s", sum)
	}
}
