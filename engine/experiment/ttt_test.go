package experiment

import (
	"context"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// TestStableTimeToTarget: the time to target is the first evaluation at or
// below the target after which the loss stays below stay × target; a
// method that reaches the target and then spikes is counted only at its
// later, lasting crossing (or not at all).
func TestStableTimeToTarget(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, c := range []struct {
		name string
		loss []float64
		want int
	}{
		{"monotone", []float64{5, 3, 1.5, 0.9, 0.8}, 3},
		{"planted spike after first crossing", []float64{5, 0.9, 2, 1.2, 0.95, 1.05}, 4},
		{"small wobble inside the band", []float64{5, 0.99, 1.05, 0.97}, 1},
		{"spike at the end", []float64{5, 0.9, 0.8, 3}, -1},
		{"never", []float64{5, 3, 2}, -1},
		{"NaN after crossing", []float64{5, 0.9, nan}, -1},
		{"Inf after crossing", []float64{5, 0.9, inf, 0.9}, 3},
		{"exactly at target", []float64{2, 1}, 1},
		{"empty", nil, -1},
	} {
		if got := StableTimeToTarget(c.loss, 1, 1.1); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	// A zero target (a test error of 0) is reached by staying at 0.
	if got := StableTimeToTarget([]float64{0.3, 0, 0.02, 0, 0}, 0, 1.1); got != 3 {
		t.Errorf("zero target: %d, want 3", got)
	}
	// A run that ends at error 0 has stable level 0, and reaches it.
	r := TTTRun{Iters: 100, Evals: evalsAt([]int{0, 50, 90, 100}, []float64{0.5, 0.1, 0, 0})}
	if lv := stableLevel(r, 0.9, 1.1, metricLoss); lv != 0 {
		t.Errorf("stable level %g, want 0", lv)
	} else if _, it := reach(r, lv, 1.1, metricLoss); it != 90 {
		t.Errorf("zero level reached at %g, want 90", it)
	}
}

func TestTTTHelpers(t *testing.T) {
	inf := math.Inf(1)
	for _, c := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{2, 2, 4}, []float64{4, 1, 8}, 0.5},
		{[]float64{inf, inf, 1}, []float64{inf, inf, 2}, math.NaN()},
		{[]float64{1, 1, inf}, []float64{inf, inf, 2}, 0},
		{[]float64{inf, inf, 1}, []float64{2, 2, inf}, inf},
	} {
		if got := medianRatio(c.a, c.b); !(got == c.want || math.IsNaN(got) && math.IsNaN(c.want)) {
			t.Errorf("medianRatio(%v, %v) = %g, want %g", c.a, c.b, got, c.want)
		}
	}
	r, lo, hi := bootRatio([]float64{1, 2, 3, 4, 5}, []float64{2, 2, 2, 2, 2}, 1000, 0.05, 1)
	if r != 1.5 || !(lo >= 0.5 && lo <= 1.5 && hi >= 1.5 && hi <= 2.5 && lo < hi) {
		t.Errorf("bootRatio: %g [%g, %g]", r, lo, hi)
	}
	g := []GridPoint{{LR: 0.01, Schedule: "c"}, {LR: 0.02, Schedule: "c", Diverged: 1}, {LR: 0.04, Schedule: "c"},
		{LR: 0.08, Schedule: "c"}, {LR: 0.16, Schedule: "c"}, {LR: 0.32, Schedule: "c", Diverged: 2}, {LR: 0.01, Schedule: "d", Diverged: 1}}
	st := stableRanges(g)
	if st["c"] != [2]float64{0.04, 0.16} || st["d"] != [2]float64{} {
		t.Errorf("stable ranges %v", st)
	}
	if b := choose([]GridPoint{{LR: 1, ValLoss: math.Inf(1)}, {LR: 2, ValLoss: 0.5}, {LR: 3, ValLoss: 0.7}}); b.LR != 2 {
		t.Errorf("choose picked %v", b)
	}
	lr := LogGrid(0.1, 2, 5)
	if math.Abs(lr[2]-0.1) > 1e-12 || math.Abs(lr[4]/lr[0]-16) > 1e-9 {
		t.Errorf("LogGrid %v", lr)
	}
	// Stable levels by 90 of 100 iterations: 0.9 (a later 0.95 < 1.1·0.9),
	// 1.2/1.1 (the spike to 1.2 after 0.5 bounds the level), +Inf
	// (diverged); the 0.5-quantile is the second, the 0.3-quantile the first.
	runs := []TTTRun{{Iters: 100, Evals: evalsAt([]int{0, 50, 90, 100}, []float64{5, 2, 0.9, 0.95})},
		{Iters: 100, Evals: evalsAt([]int{0, 50, 90, 100}, []float64{5, 0.5, 1.2, 0.9})},
		{Iters: 100, Diverged: true, Evals: evalsAt([]int{0, 50}, []float64{5, 2})}}
	if got := targetOf(runs, 0.9, 1.1, 0.5, metricLoss); math.Abs(got-1.2/1.1) > 1e-6 {
		t.Errorf("median target %g, want %g", got, 1.2/1.1)
	}
	if got := targetOf(runs, 0.9, 1.1, 0.3, metricLoss); got != 0.9 {
		t.Errorf("0.3 target %g, want 0.9", got)
	}
	if got := targetOf(runs, 0.9, 1.1, 1, metricLoss); !math.IsNaN(got) {
		t.Errorf("max target %g, want NaN (a diverged seed)", got)
	}
	// Every run reaches its own stable level by the rule.
	for i, r := range runs[:2] {
		lv := stableLevel(r, 0.9, 1.1, metricLoss)
		var loss []float64
		for _, e := range r.Evals {
			loss = append(loss, e.TestLoss)
		}
		if k := StableTimeToTarget(loss, lv, 1.1); k < 0 || r.Evals[k].Iter > 90 {
			t.Errorf("run %d: level %g reached at %d", i, lv, k)
		}
	}
}

// TestRunTimeToTargetPlanted: a planted method that diverges at every
// learning rate, and one whose large rates blow up, do not stop the
// experiment: their runs are recorded as diverged (with the iteration) and
// the other methods are tuned, run and compared.
func TestRunTimeToTargetPlanted(t *testing.T) {
	env := testEnv(t)
	train, val, test := tttData(t)(data.Teacher(data.TeacherConfig{N: 300, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}))
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "ntk-static")
	if err != nil {
		t.Fatal(err)
	}
	planted := ms[0]
	planted.Name, planted.LRMult = "planted-diverging", 1e5
	ms = append(ms, planted)
	c := TTTConfig{Name: "planted", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 2, Evals: 10,
		LRs: LogGrid(0.03, 3, 5), Schedules: []string{"constant", "cosine"}, Extend: 1, TuneSeeds: 1, Seeds: 2, SeedBase: 1, Methods: ms, Bootstrap: 200}
	res, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	if math.IsNaN(res.Target) || res.Target <= 0 {
		t.Fatalf("no target: %v", res.Target)
	}
	by := map[string]TTTSummary{}
	for _, s := range res.Summary {
		by[s.Method] = s
	}
	if p := by["planted-diverging"]; !math.IsInf(p.ValLoss, 1) || p.Seeds != 0 || len(p.Grid) != 10 {
		t.Errorf("planted: val %g, %d final seeds, %d grid points", p.ValLoss, p.Seeds, len(p.Grid))
	} else {
		for _, g := range p.Grid {
			if g.Diverged != 1 {
				t.Errorf("planted lr %g %s: %d diverged", g.LR, g.Schedule, g.Diverged)
			}
		}
	}
	for _, m := range []string{"uniform", "ntk-static"} {
		s := by[m]
		if s.Seeds != 2 || math.IsInf(s.ValLoss, 1) || s.LR == 0 {
			t.Errorf("%s: %+v", m, s)
		}
	}
	if u := by["uniform"]; u.Reached == 0 || u.SecRatio != 1 && !math.IsInf(u.Seconds, 1) || u.IterRatio != 1 && !math.IsInf(u.ItersTo, 1) {
		t.Errorf("uniform against itself: reached %d, ratios %g %g", u.Reached, u.SecRatio, u.IterRatio)
	}
	// Some runs of the planted method stopped at a recorded iteration.
	var div int
	for _, r := range res.Runs {
		if r.Method == "planted-diverging" {
			if !r.Diverged || r.Why == "" || r.DivergedIter < 0 || r.DivergedIter > r.Iters {
				t.Errorf("planted run %+v", r)
			}
			div++
		}
	}
	if div != 10 {
		t.Errorf("%d planted runs", div)
	}
	rows := readCSV(t, filepath.Join(env.Out, "ttt_planted_runs.csv"))
	if len(rows[0]) != 20 || rows[0][19] != "extra_steps" {
		t.Errorf("regression runs header %v", rows[0])
	}
	var sawDiv bool
	for _, r := range rows[1:] {
		if r[4] == "planted-diverging" && r[11] == "true" && r[12] != "-1" {
			sawDiv = true
		}
	}
	if !sawDiv {
		t.Error("runs CSV lacks the planted divergence")
	}
	md, _ := os.ReadFile(filepath.Join(env.Out, "ttt_planted_summary.md"))
	if !strings.Contains(string(md), "| planted-diverging | all diverged |") || !strings.Contains(string(md), "Target test loss") {
		t.Errorf("summary:\n%s", md)
	}
	for _, f := range []string{"ttt_planted_seconds.png", "ttt_planted_iters.png", "ttt_planted_ratio.png"} {
		checkPNG(t, filepath.Join(env.Out, f))
	}
	for _, f := range []string{"ttt_planted_grid.csv", "ttt_planted_summary.csv"} {
		if len(readCSV(t, filepath.Join(env.Out, f))) < 2 {
			t.Errorf("%s empty", f)
		}
	}
}

func evalsAt(iters []int, loss []float64) []engine.Eval {
	out := make([]engine.Eval, len(iters))
	for i := range iters {
		out[i] = engine.Eval{Iter: iters[i], TestLoss: loss[i]}
	}
	return out
}

// TestTTTGaussNewtonMethods: uniform-gn and ntk-static-gn are methods of
// the time-to-target experiment with the Gauss–Newton step size, tuned
// over the same grid (their cap), and run to the end.
func TestTTTGaussNewtonMethods(t *testing.T) {
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform-gn,ntk-static-gn")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 || ms[0].Name != "uniform" || ms[0].Cfg.StepSize != "" {
		t.Fatalf("methods %v", ms)
	}
	for _, m := range ms[1:] {
		if m.Cfg.StepSize != engine.StepGN || m.lrMult() != 1 {
			t.Errorf("%s: step size %q, lr multiplier %g", m.Name, m.Cfg.StepSize, m.lrMult())
		}
	}
	train, val, test := tttData(t)(data.Teacher(data.TeacherConfig{N: 200, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}))
	res, err := RunTimeToTarget(context.Background(), testEnv(t), TTTConfig{Name: "gn", Train: train, Val: val, Test: test, Hidden: []int{8},
		Act: nn.ReLU, Batch: 8, Epochs: 2, Evals: 5, LRs: LogGrid(0.1, 10, 3), Schedules: []string{"constant"}, TuneSeeds: 1, Seeds: 2,
		SeedBase: 1, Methods: ms, Bootstrap: 50})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range res.Summary[1:] {
		if s.Seeds != 2 || s.Diverged != 0 || math.IsNaN(s.FinalTest) {
			t.Errorf("%s: %+v", s.Method, s)
		}
	}
}

// TestChooseBaseline: of the plain-SGD methods the one with the lowest
// target sets it; importance-sampled methods never do.
func TestChooseBaseline(t *testing.T) {
	run := func(m string, losses ...float64) TTTRun {
		r := TTTRun{Method: m, Phase: "final", Iters: 10 * len(losses)}
		for k, l := range losses {
			r.Evals = append(r.Evals, engine.Eval{Iter: 10 * k, TestLoss: l})
		}
		return r
	}
	c := TTTConfig{Methods: []TTTMethod{{Name: "uniform"}, {Name: "uniform-clip"}, {Name: "ntk-static"}}}
	res := &TTTResult{}
	for s := 0; s < 3; s++ {
		res.Runs = append(res.Runs, run("uniform", 5, 3, 2, 2, 2, 2, 2, 2, 2, 2), run("uniform-clip", 5, 2, 1, 1, 1, 1, 1, 1, 1, 1),
			run("ntk-static", 5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5))
	}
	name, target := chooseBaseline(c, res, metricLoss)
	if name != "uniform-clip" || !(target > 0.99 && target < 1.01) {
		t.Fatalf("baseline %s, target %v; want uniform-clip at 1", name, target)
	}
}

// TestTTTTunedRerun: a run given an earlier run's tuning grid (as read back
// from its CSV) skips the tuning and reproduces that run's final losses at
// the same choices; a malformed grid file is refused with its name and line.
func TestTTTTunedRerun(t *testing.T) {
	env := testEnv(t)
	all, err := data.Teacher(data.TeacherConfig{N: 200, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	train, test, err := Prepare(all, 0.2, 1)
	if err != nil {
		t.Fatal(err)
	}
	train, val, err := data.Split(train, 0.2, 2)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform-mom-clip,ntk-static-auto-mom")
	if err != nil {
		t.Fatal(err)
	}
	c := TTTConfig{Name: "tuned", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 2, Evals: 5,
		LRs: LogGrid(0.03, 3, 4), Schedules: []string{"constant", "cosine"}, Extend: 1, TuneSeeds: 1, Seeds: 2, SeedBase: 1, Methods: ms, Bootstrap: 50}
	first, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	c.Tuned, err = ReadTTTGrid(env.path("ttt_tuned_grid.csv"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	finals := func(r *TTTResult) (n int, loss []float64) {
		for _, run := range r.Runs {
			if run.Phase == "tune" {
				n++
			} else {
				loss = append(loss, run.finalLoss())
			}
		}
		return n, loss
	}
	n1, l1 := finals(first)
	n2, l2 := finals(again)
	if n1 == 0 || n2 != 0 {
		t.Fatalf("tuning runs: %d first, %d with the tuned grid (want > 0, 0)", n1, n2)
	}
	if !slices.Equal(l1, l2) {
		t.Errorf("final losses differ: %v vs %v", l1, l2)
	}
	for i, s := range again.Summary {
		f := first.Summary[i]
		if s.LR != f.LR || s.Schedule != f.Schedule || s.EdgeLow != f.EdgeLow || s.EdgeHigh != f.EdgeHigh || len(s.Grid) != len(f.Grid) {
			t.Errorf("%s: choice %g %s (edges %v %v, %d points), first %g %s (%v %v, %d)", s.Method, s.LR, s.Schedule, s.EdgeLow, s.EdgeHigh,
				len(s.Grid), f.LR, f.Schedule, f.EdgeLow, f.EdgeHigh, len(f.Grid))
		}
	}
	bad := filepath.Join(t.TempDir(), "grid.csv")
	os.WriteFile(bad, []byte("setting,method,lr,schedule,extension,tune_seeds,diverged,val_loss_median,chosen\nx,m,0.1,constant,false,1,0,0.5,maybe\n"), 0o644)
	if _, err := ReadTTTGrid(bad); err == nil || !strings.Contains(err.Error(), bad+":2") {
		t.Errorf("malformed grid: %v", err)
	}
}

// TestTimeToTargetClassification: under the xent loss the time-to-target
// experiment trains every method with the cross-entropy, sets a
// cross-entropy target and an accuracy target from the baselines, and
// writes both, with their ratios, to the CSV and Markdown outputs; the
// accuracy target is one the baseline's own seeds reach, and it is above
// the majority-class rate of the imbalanced test set.
func TestTimeToTargetClassification(t *testing.T) {
	env := testEnv(t)
	train, val, test := tttData(t)(data.ClassTeacher(data.ClassTeacherConfig{N: 500, D: 6, Hidden: 8, Classes: 3, TailDOF: 3, Sharpness: 5, Imbalance: 4, Seed: 2}))
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform-clip,ntk-static,lsh,upper-bound,uniform-gn")
	if err != nil {
		t.Fatal(err)
	}
	// gn runs under xent (the generalized Gauss–Newton curvature); a
	// method with the newton step size (mse only) would be left out.
	newton := ms[0]
	newton.Name, newton.Cfg.StepSize = "uniform-newton", engine.StepNewton
	ms, dropped := SupportedTTTMethods(append(ms, newton), "xent")
	if len(dropped) != 1 || !strings.HasPrefix(dropped[0], "uniform-newton (") || len(ms) != 6 {
		t.Fatalf("kept %d, dropped %v", len(ms), dropped)
	}
	if kept, none := SupportedTTTMethods(TTTMethods(0, 1, 1, false), ""); none != nil || len(kept) != len(TTTMethods(0, 1, 1, false)) {
		t.Fatalf("mse dropped %v", none)
	}
	c := TTTConfig{Name: "cls", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 4, Evals: 10,
		LRs: LogGrid(0.2, 3, 3), Schedules: []string{"constant"}, TuneSeeds: 1, Seeds: 3, SeedBase: 1, Methods: ms, Bootstrap: 100, Loss: "xent"}
	res, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Classify || math.IsNaN(res.Target) || math.IsNaN(res.AccTarget) || res.AccBaseline == "" {
		t.Fatalf("targets: xent %v, error %v (%q)", res.Target, res.AccTarget, res.AccBaseline)
	}
	// The loss is the cross-entropy: every evaluation's test loss equals
	// its test cross-entropy, and accuracies are present.
	for _, r := range res.Runs {
		for _, e := range r.Evals {
			if e.TestLoss != e.TestXent || !(e.TestAccuracy >= 0 && e.TestAccuracy <= 1) {
				t.Fatalf("%s: eval %+v", r.Method, e)
			}
		}
	}
	majority := 0.0
	for k := range test.O {
		n := 0.0
		for i := range test.N {
			n += float64(test.YRow(i)[k])
		}
		majority = math.Max(majority, n/float64(test.N))
	}
	if acc := 1 - res.AccTarget; acc <= majority {
		t.Errorf("accuracy target %.3f not above the majority rate %.3f", acc, majority)
	}
	for _, s := range res.Summary {
		if s.Method == res.AccBaseline && (s.Accuracy.Reached < 2 || s.Accuracy.IterRatio != 1) {
			t.Errorf("accuracy baseline %s: %+v", s.Method, s.Accuracy)
		}
		if s.Method == res.Baseline && (s.Reached < 2 || s.IterRatio != 1) {
			t.Errorf("xent baseline %s: %+v", s.Method, s.TTTReach)
		}
		if s.Seeds != 3 || math.IsNaN(s.Accuracy.FinalTest) {
			t.Errorf("%s: %+v", s.Method, s)
		}
	}
	runs := readCSV(t, filepath.Join(env.Out, "ttt_cls_runs.csv"))
	if h := runs[0]; h[len(h)-2] != "train_acc" || h[len(h)-1] != "eval_acc" {
		t.Errorf("runs header %v", h)
	}
	sum := readCSV(t, filepath.Join(env.Out, "ttt_cls_summary.csv"))
	col := slices.Index(sum[0], "target_test_acc")
	if col < 0 || len(sum) != 7 || sum[1][col] != fmtField(1-res.AccTarget) || sum[1][slices.Index(sum[0], "loss")] != "xent" {
		t.Errorf("summary CSV %v", sum[:2])
	}
	if g := readCSV(t, filepath.Join(env.Out, "ttt_cls_grid.csv")); g[0][len(g[0])-1] != "val_acc_median" {
		t.Errorf("grid header %v", g[0])
	}
	md, _ := os.ReadFile(filepath.Join(env.Out, "ttt_cls_summary.md"))
	for _, w := range []string{"Target test cross-entropy", "Target test accuracy", "| final test accuracy |", "| final test cross-entropy |",
		"chosen by the median final validation cross-entropy", "training-set class frequencies 0: "} {
		if !strings.Contains(string(md), w) {
			t.Errorf("summary lacks %q:\n%s", w, md)
		}
	}
	if !strings.Contains(res.TTTSummaryTable(), "test accuracy (target ") {
		t.Errorf("terminal table:\n%s", res.TTTSummaryTable())
	}
}

// tttData returns a function that splits a generated data set (and its
// generator's error) into standardized train, validation and test sets:
// tttData(t)(data.Teacher(cfg)).
func tttData(t *testing.T) func(*data.Dataset, error) (train, val, test *data.Dataset) {
	return func(all *data.Dataset, err error) (train, val, test *data.Dataset) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		train, test, err = Prepare(all, 0.2, 1)
		if err != nil {
			t.Fatal(err)
		}
		if train, val, err = data.Split(train, 0.2, 2); err != nil {
			t.Fatal(err)
		}
		return train, val, test
	}
}

// TestTTTWarmupMethods: the -wu methods are their momentum method with a
// warm-up over 5 % of each run's iterations (tuning and final alike), and
// uniform-mom-wu may set the target.
func TestTTTWarmupMethods(t *testing.T) {
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform-mom-wu,ntk-static-auto-mom-wu")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms[1:] {
		if m.WarmupFrac != 0.05 || m.Cfg.Momentum != 0.9 || m.lrMult() != 0.1 {
			t.Errorf("%s: warm-up %g, momentum %g, lr multiplier %g", m.Name, m.WarmupFrac, m.Cfg.Momentum, m.lrMult())
		}
	}
	if !slices.Contains(BaselineMethods, "uniform-mom-wu") || slices.Contains(BaselineMethods, "ntk-static-auto-mom-wu") {
		t.Errorf("baselines %v", BaselineMethods)
	}
	env := testEnv(t)
	train, val, test := tttData(t)(data.Teacher(data.TeacherConfig{N: 200, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}))
	c := TTTConfig{Name: "wu", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 2, Evals: 4,
		LRs: LogGrid(0.03, 3, 2), Schedules: []string{"constant"}, TuneSeeds: 1, Seeds: 1, SeedBase: 1, Methods: ms[1:2], Bootstrap: 20}
	res, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	// The evaluation at iteration 0 reports the first iteration's rate:
	// 1/W of the constant schedule's, W = 5 % of the run's iterations.
	for _, r := range res.Runs {
		w := max(1, int(math.Round(0.05*float64(r.Iters))))
		if w < 2 || len(r.Evals) == 0 || r.Evals[0].Iter != 0 || math.Abs(r.Evals[0].LR-r.LR/float64(w)) > 1e-12*r.LR {
			t.Errorf("%s %s lr %g over %d iterations (warm-up %d): first evaluation %+v", r.Method, r.Phase, r.LR, r.Iters, w, r.Evals[:1])
		}
	}
}

// TestGridIndex: learning rates read back with 6 digits map to the grid
// index whose rate is exactly what the tuning computed (grid × multiplier,
// edge extensions by repeated division and multiplication); others map to
// no index.
func TestGridIndex(t *testing.T) {
	for _, lrs := range [][]float64{LogGrid(0.16, math.Sqrt(10), 5), LogGrid(0.05, math.Cbrt(10), 7)} {
		c := TTTConfig{LRs: lrs, Extend: 2}
		for _, mult := range []float64{1, 0.1} {
			want := map[int]float64{}
			for i, lr := range lrs {
				want[i] = lr * mult
			}
			lo, hi := lrs[0]*mult, lrs[len(lrs)-1]*mult
			ratio := lrs[1] / lrs[0]
			for k := 1; k <= 2; k++ {
				lo /= ratio
				hi *= ratio
				want[-k], want[len(lrs)-1+k] = lo, hi
			}
			for i, w := range want {
				if got := c.lrAt(i, mult); got != w {
					t.Errorf("grid %v ×%g: index %d has rate %v, want %v", lrs, mult, i, got, w)
				}
				v, _ := strconv.ParseFloat(fnum(w), 64)
				if got, ok := c.indexOf(v, mult); !ok || got != i {
					t.Errorf("grid %v ×%g: %v read back maps to index %d (%v), want %d", lrs, mult, v, got, ok, i)
				}
			}
			if i, ok := c.indexOf(0.123456, mult); ok {
				t.Errorf("an off-grid rate maps to index %d", i)
			}
		}
	}
}

// TestTTTCommonGrid: with CommonGrid every method is tuned at every grid
// index any method tried — here the extension that only a planted
// method with a large learning-rate multiplier needs (the lower one) — and a rerun from the
// tuned grid adds the missing indices to a grid tuned without it, and no
// others.
func TestTTTCommonGrid(t *testing.T) {
	env := testEnv(t)
	train, val, test := tttData(t)(data.Teacher(data.TeacherConfig{N: 200, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}))
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform")
	if err != nil {
		t.Fatal(err)
	}
	slow := ms[0]
	slow.Name, slow.LRMult = "planted-slow", 20
	ms = append(ms, slow)
	c := TTTConfig{Name: "common", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 1, Evals: 3,
		LRs: LogGrid(0.03, 3, 3), Schedules: []string{"constant"}, Extend: 2, TuneSeeds: 1, Seeds: 1, SeedBase: 1, Methods: ms, Bootstrap: 20}
	indices := func(res *TTTResult, c TTTConfig) map[string][]int {
		out := map[string][]int{}
		for i, s := range res.Summary {
			for _, p := range s.Grid {
				k, ok := c.indexOf(p.LR, c.Methods[i].lrMult())
				if !ok {
					t.Fatalf("%s: rate %g off the grid", s.Method, p.LR)
				}
				if p.Extension != (k < 0 || k >= len(c.LRs)) {
					t.Errorf("%s: index %d marked extension %v", s.Method, k, p.Extension)
				}
				out[s.Method] = append(out[s.Method], k)
			}
		}
		return out
	}
	own, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	got := indices(own, c)
	if !slices.Equal(got["planted-slow"], []int{-1, 0, 1, 2}) {
		t.Fatalf("the planted method's own grid %v: want the base grid and a lower extension", got["planted-slow"])
	}
	if slices.Contains(got["uniform"], -1) {
		t.Fatalf("uniform's own grid %v already holds index -1; the test plants nothing", got["uniform"])
	}
	ownUniform := own.Summary[0]
	ownGrid, err := ReadTTTGrid(env.path("ttt_common_grid.csv"))
	if err != nil {
		t.Fatal(err)
	}

	c.CommonGrid = true
	common, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	gc := indices(common, c)
	union := slices.Compact(slices.Sorted(slices.Values(append(append([]int{}, got["uniform"]...), got["planted-slow"]...))))
	for _, m := range []string{"uniform", "planted-slow"} {
		if k := slices.Sorted(slices.Values(gc[m])); !slices.Equal(k, union) {
			t.Errorf("%s common grid %v, want %v", m, k, union)
		}
	}
	if u := common.Summary[0]; u.ValLoss > ownUniform.ValLoss {
		t.Errorf("uniform's choice got worse with more points: %g > %g", u.ValLoss, ownUniform.ValLoss)
	}

	// Reruns from a tuned grid: the common one needs no tuning; the one
	// tuned without it gets exactly the missing indices, and the choice
	// is then the best of the whole grid, as in the common run.
	for _, tc := range []struct {
		name string
		grid map[string][]GridPoint
		want int
	}{{"common", nil, 0}, {"own", ownGrid, len(union)*2 - len(got["uniform"]) - len(got["planted-slow"])}} {
		c.Tuned = tc.grid
		if tc.grid == nil {
			if c.Tuned, err = ReadTTTGrid(env.path("ttt_common_grid.csv")); err != nil {
				t.Fatal(err)
			}
		}
		again, err := RunTimeToTarget(context.Background(), env, c)
		if err != nil {
			t.Fatal(err)
		}
		tuned := 0
		for _, r := range again.Runs {
			if r.Phase == "tune" {
				tuned++
			}
		}
		if tuned != tc.want {
			t.Errorf("from the %s grid: %d tuning runs, want %d", tc.name, tuned, tc.want)
		}
		for i, s := range again.Summary {
			if f := common.Summary[i]; s.LR != f.LR || s.Schedule != f.Schedule || len(s.Grid) != len(f.Grid) {
				t.Errorf("from the %s grid, %s chose %g %s over %d points, the common run %g %s over %d", tc.name, s.Method, s.LR, s.Schedule,
					len(s.Grid), f.LR, f.Schedule, len(f.Grid))
			}
		}
	}
}

// TestTTTExtendTuned: a whole grid reused from an earlier run goes on
// extending at its best edge when Extend has grown, tuning only the new
// points, and ends where a fresh run with that Extend ends.
func TestTTTExtendTuned(t *testing.T) {
	env := testEnv(t)
	train, val, test := tttData(t)(data.Teacher(data.TeacherConfig{N: 200, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}))
	ms, err := SelectTTTMethods(TTTMethods(0, 1, 1, false), "uniform")
	if err != nil {
		t.Fatal(err)
	}
	c := TTTConfig{Name: "ext", Train: train, Val: val, Test: test, Hidden: []int{8}, Act: nn.ReLU, Batch: 8, Epochs: 1, Evals: 3,
		LRs: LogGrid(0.03, 3, 3), Schedules: []string{"constant"}, Extend: 0, TuneSeeds: 1, Seeds: 1, SeedBase: 1, Methods: ms, Bootstrap: 20}
	if _, err := RunTimeToTarget(context.Background(), env, c); err != nil {
		t.Fatal(err)
	}
	c.Tuned, err = ReadTTTGrid(env.path("ttt_ext_grid.csv"))
	if err != nil {
		t.Fatal(err)
	}
	c.Extend = 2
	resumed, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	c.Tuned = nil
	fresh, err := RunTimeToTarget(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	r, f := resumed.Summary[0], fresh.Summary[0]
	if len(f.Grid) != 5 {
		t.Fatalf("fresh grid of %d points: the test needs uniform's best at the upper edge (want 3 + 2 extensions)", len(f.Grid))
	}
	tuned := 0
	for _, run := range resumed.Runs {
		if run.Phase == "tune" {
			tuned++
		}
	}
	if tuned != 2 || r.LR != f.LR || r.Schedule != f.Schedule || len(r.Grid) != len(f.Grid) || r.EdgeHigh != f.EdgeHigh {
		t.Errorf("resumed: %d tuning runs, chose %g %s over %d points (edge %v); fresh %g %s over %d (edge %v)",
			tuned, r.LR, r.Schedule, len(r.Grid), r.EdgeHigh, f.LR, f.Schedule, len(f.Grid), f.EdgeHigh)
	}
}

// TestTuneCommonFixedPoint: with a planted validation loss per learning
// rate, a method whose best moves to the edge of its grid once the common
// points arrive extends again, and the others follow, until no method adds
// a point. Method a's loss falls with the rate up to 8; b's best lies
// inside its grid at 2 on its own.
func TestTuneCommonFixedPoint(t *testing.T) {
	c := TTTConfig{LRs: []float64{1, 2, 4}, Schedules: []string{"constant"}, Extend: 3, TuneSeeds: 1}
	loss := map[string]func(lr float64) float64{
		"a": func(lr float64) float64 { return math.Abs(math.Log2(lr) - 3) },
		"b": func(lr float64) float64 {
			if lr == 2 {
				return 1
			}
			return 0.3*math.Abs(math.Log2(lr)-5) + 0.2 // best at 32; 4 is worse than 2, 16 better
		},
	}
	var tuners []*tttTuner
	for _, name := range []string{"a", "b"} {
		f := loss[name]
		tu := &tttTuner{c: c, meth: TTTMethod{Name: name}, s: TTTSummary{Method: name}, tried: map[int]bool{},
			run: func(lr float64, _ string, _ uint64) (TTTRun, error) {
				return TTTRun{Evals: []engine.Eval{{TestLoss: f(lr)}}}, nil
			}}
		if err := tu.tuneExtending(); err != nil {
			t.Fatal(err)
		}
		tuners = append(tuners, tu)
	}
	own := func(tu *tttTuner) []int { return slices.Sorted(maps.Keys(tu.tried)) }
	if a, b := own(tuners[0]), own(tuners[1]); !slices.Equal(a, []int{0, 1, 2, 3, 4}) || !slices.Equal(b, []int{0, 1, 2}) {
		t.Fatalf("own grids %v and %v", a, b)
	}
	if err := tuneCommon(tuners); err != nil {
		t.Fatal(err)
	}
	// b gets 3 and 4 (8, 16) from a; its best (16) is then at its edge, so it
	// extends to 5 (32, the limit), which a then gets as well.
	for _, tu := range tuners {
		if got := own(tu); !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
			t.Errorf("%s: common grid %v, want indices 0…5", tu.meth.Name, got)
		}
		tu.finish()
	}
	if a, b := tuners[0].s.LR, tuners[1].s.LR; a != 8 || b != 32 {
		t.Errorf("choices %g and %g, want 8 and 32", a, b)
	}
}
