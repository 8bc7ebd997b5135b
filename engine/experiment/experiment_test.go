package experiment

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

func testEnv(t *testing.T) Env {
	t.Helper()
	be, _, err := kernels.Default()
	if err != nil {
		t.Fatal(err)
	}
	return Env{Out: t.TempDir(), Backend: be, Workers: 2}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if cfg.Width < 300 || cfg.Height < 200 {
		t.Fatalf("%s: %dx%d is too small", path, cfg.Width, cfg.Height)
	}
}

func TestKL(t *testing.T) {
	p := []float64{1, 2, 3, 4}
	if kl := KL(p, []float64{10, 20, 30, 40}); math.Abs(kl) > 1e-15 {
		t.Fatalf("KL(p‖p) = %g, want 0", kl)
	}
	// KL([½,½] ‖ [¼,¾]) = ½ ln 2 + ½ ln(2/3).
	want := 0.5*math.Log(2) + 0.5*math.Log(2.0/3)
	if kl := KL([]float64{1, 1}, []float64{1, 3}); math.Abs(kl-want) > 1e-12 {
		t.Fatalf("KL = %g, want %g", kl, want)
	}
	if kl := KL([]float64{1, 1}, []float64{1, 0}); !math.IsInf(kl, 1) {
		t.Fatalf("KL with q=0 where p>0 = %g, want +Inf", kl)
	}
	if kl := KL([]float64{1, 0}, []float64{1, 1}); math.Abs(kl-math.Log(2)) > 1e-12 {
		t.Fatalf("KL = %g, want ln 2", kl)
	}
}

func TestStats(t *testing.T) {
	m, s := meanStd([]float64{1, 2, 3, 4})
	if m != 2.5 || math.Abs(s-math.Sqrt(5.0/3)) > 1e-12 {
		t.Fatalf("meanStd = %g, %g", m, s)
	}
	if g := geoMean([]float64{1, 4, 16}); math.Abs(g-4) > 1e-12 {
		t.Fatalf("geoMean = %g, want 4", g)
	}
	if g := geoMean([]float64{1, math.Inf(1)}); !math.IsInf(g, 1) {
		t.Fatalf("geoMean with +Inf = %g", g)
	}
	if md := median([]float64{5, 1, math.NaN(), 3}); md != 3 {
		t.Fatalf("median = %g, want 3", md)
	}
	if got := mix([]float64{1, 0}, 0.5); got[0] != 0.75 || got[1] != 0.25 {
		t.Fatalf("mix = %v", got)
	}
	if scaledLR(0.1, 16) != 0.1 || scaledLR(0.1, 64) != 0.05 {
		t.Fatal("scaledLR")
	}
}

func TestTimeToTarget(t *testing.T) {
	ev := []engine.Eval{{Iter: 0, TrainLoss: 3, TrainSeconds: 0}, {Iter: 10, TrainLoss: 2, TrainSeconds: 1}, {Iter: 20, TrainLoss: 0.5, TrainSeconds: 2.5}}
	it, s, ok := timeToTarget(ev, 1)
	if !ok || it != 20 || s != 2.5 {
		t.Fatalf("timeToTarget = %d, %g, %v", it, s, ok)
	}
	if _, _, ok := timeToTarget(ev, 0.1); ok {
		t.Fatal("reached an unreachable target")
	}
	// Summary ratios against uniform.
	c := ConvergenceConfig{Iters: 20, Methods: []Method{{Name: "uniform"}, {Name: "fast"}, {Name: "never"}}}
	res := &ConvergenceResult{Target: 1, Runs: []RunResult{
		{Method: "uniform", Evals: ev},
		{Method: "fast", Evals: []engine.Eval{{Iter: 0, TrainLoss: 3}, {Iter: 10, TrainLoss: 0.9, TrainSeconds: 5}, {Iter: 20, TrainLoss: 0.4, TrainSeconds: 10}}},
		{Method: "never", Evals: []engine.Eval{{Iter: 0, TrainLoss: 3}, {Iter: 20, TrainLoss: 2, TrainSeconds: 1}}},
	}}
	sum := summarize(c, res)
	if sum[0].IterRatio != 1 || sum[1].IterRatio != 0.5 || sum[1].SecRatio != 2 {
		t.Fatalf("ratios: %+v", sum[:2])
	}
	if sum[2].Reached != 0 || !math.IsNaN(sum[2].IterRatio) {
		t.Fatalf("never: %+v", sum[2])
	}
	// Per-seed targets (1.05 × uniform's lowest loss on the seed) and the
	// geometric mean of per-seed ratios.
	res = &ConvergenceResult{SeedTarget: map[uint64]float64{1: 1, 2: 1}, Runs: []RunResult{
		{Method: "uniform", Seed: 1, Evals: ev},
		{Method: "uniform", Seed: 2, Evals: []engine.Eval{{Iter: 0, TrainLoss: 3}, {Iter: 10, TrainLoss: 0.8, TrainSeconds: 2}}},
		{Method: "fast", Seed: 1, Evals: []engine.Eval{{Iter: 0, TrainLoss: 3}, {Iter: 5, TrainLoss: 0.9, TrainSeconds: 10}}},
		{Method: "fast", Seed: 2, Evals: []engine.Eval{{Iter: 0, TrainLoss: 3}, {Iter: 20, TrainLoss: 0.9, TrainSeconds: 2}}},
	}}
	sum = summarize(ConvergenceConfig{Iters: 20, Methods: []Method{{Name: "uniform"}, {Name: "fast"}}}, res)
	// iteration ratios 5/20 and 20/10: geometric mean 1/√2·... = √(0.25·2).
	if got, want := sum[1].IterRatio, math.Sqrt(0.25*2); math.Abs(got-want) > 1e-12 {
		t.Fatalf("per-seed iteration ratio %g, want %g", got, want)
	}
	if got, want := sum[1].SecRatio, math.Sqrt(10/2.5*1); math.Abs(got-want) > 1e-12 {
		t.Fatalf("per-seed seconds ratio %g, want %g", got, want)
	}
}

// TestBestLoss: the per-seed target comes from uniform's lowest loss after
// the start, so a spike at the last evaluation does not set it.
func TestBestLoss(t *testing.T) {
	ev := []engine.Eval{{TrainLoss: 0.05}, {TrainLoss: 2}, {TrainLoss: 0.3}, {TrainLoss: 0.2}, {TrainLoss: 9}}
	if got := bestLoss(ev); got != 0.2 {
		t.Fatalf("bestLoss = %g, want 0.2 (not the initial 0.05 nor the final spike 9)", got)
	}
	if got := bestLoss(ev[:1]); got != 0.05 {
		t.Fatalf("bestLoss of one evaluation = %g", got)
	}
}

func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := NewProgress(&b, false)
	p.Phase("x", 10)
	p.Step(5)
	p.Done()
	if b.Len() != 0 {
		t.Fatalf("disabled progress wrote %q", b.String())
	}
	p = NewProgress(&b, true)
	p.Phase("rehash sweep", 4)
	p.Step(2)
	p.Step(2)
	p.Done()
	out := b.String()
	if !strings.Contains(out, "rehash sweep: 4/4 (100%)") || !strings.Contains(out, "ETA") {
		t.Fatalf("progress output %q", out)
	}
	var nilP *Progress
	nilP.Phase("x", 1) // must not panic
	nilP.Step(1)
}

func TestRunConvergenceSmoke(t *testing.T) {
	env := testEnv(t)
	train, test, err := TeacherSet(data.TeacherConfig{N: 250, D: 6, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1}, 0.2)
	if err != nil {
		t.Fatal(err)
	}
	base := engine.DefaultConfig()
	ms, err := SelectMethods(Methods(base, BestLSH{Hash: base.Hash, RehashEvery: 10}, 2, 1.5), "uniform,lsh-best,true,uniform+ks")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SelectMethods(ms, "nope"); err == nil {
		t.Fatal("unknown method accepted")
	}
	c := ConvergenceConfig{Name: "t", Train: train, Test: test, Hidden: []int{8}, Batch: 8, Iters: 20, LR: 0.05, EvalEvery: 5,
		DiagSubset: 50, Seeds: 2, SeedBase: 1, Methods: ms, ExpensiveIters: 10}
	res, err := RunConvergence(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	recs := readCSV(t, filepath.Join(env.Out, "convergence_t.csv"))
	// 3 methods × 2 seeds × 5 evaluations (0,5,...,20) + true capped at 10
	// iterations × 2 seeds × 3 evaluations, plus the header.
	if want := 1 + 3*2*5 + 2*3; len(recs) != want {
		t.Fatalf("%d CSV rows, want %d", len(recs), want)
	}
	if res.Summary[0].Method != "uniform" || res.Summary[0].IterRatio != 1 || res.Summary[0].Reached != 2 {
		t.Fatalf("uniform summary %+v", res.Summary[0])
	}
	if !res.Summary[2].Capped || res.Summary[2].Iters != 10 {
		t.Fatalf("true not capped: %+v", res.Summary[2])
	}
	// Every run of a seed starts from the same initialization: equal loss
	// at iteration 0.
	l0 := map[string]string{}
	for _, r := range recs[1:] {
		if r[8] == "0" {
			if prev, ok := l0[r[6]]; ok && prev != r[15] {
				t.Fatalf("seed %s: initial loss %s vs %s", r[6], prev, r[15])
			}
			l0[r[6]] = r[15]
		}
	}
	for _, n := range []string{"convergence_t_iters.png", "convergence_t_seconds.png", "convergence_t_iters_ks.png"} {
		checkPNG(t, filepath.Join(env.Out, n))
	}
	md, err := os.ReadFile(filepath.Join(env.Out, "convergence_t_summary.md"))
	if err != nil || !strings.Contains(string(md), "| true | 10 (capped)") {
		t.Fatalf("summary md: %v\n%s", err, md)
	}
}

func TestRunKLSmoke(t *testing.T) {
	env := testEnv(t)
	c := KLConfig{Data: data.TeacherConfig{N: 150, D: 5, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 2},
		Outputs: []int{1, 2}, Widths: []int{8, 24}, MultiWidths: []int{8}, Rehash: []RehashMode{{Name: "epoch"}, {Name: "r7", Every: 7}},
		Epochs: 1.5, Batch: 10, LR: 0.05, MeasureEvery: 4, Hash: PaperHash(), Eps: 0.1, Seed: 1, DenseMaxParams: 150}
	rows, err := RunKL(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no rows")
	}
	sawDense, sawSkip := false, false
	for _, r := range rows {
		// Right after a rehash the linearization is exact for one output:
		// p̂ = p*.
		if r.Outputs == 1 && r.SinceRehash == 0 && r.KLNTK > 1e-6 {
			t.Fatalf("KL(p*‖p̂) = %g right after a rehash (width %d, iter %d)", r.KLNTK, r.Width, r.Iter)
		}
		for _, v := range []float64{r.KLNTKEps, r.KLStructured, r.KLUniform} {
			if !(v >= 0) || math.IsInf(v, 0) {
				t.Fatalf("bad KL in %+v", r)
			}
		}
		// Cauchy–Schwarz: no distribution beats the ideal second moment.
		if r.RatioStructured < r.Ideal*(1-1e-9) || r.RatioNTKEps < r.Ideal*(1-1e-9) {
			t.Fatalf("ratio below ideal: %+v", r)
		}
		if r.Params > c.DenseMaxParams {
			sawSkip = sawSkip || math.IsNaN(r.KLDense)
		} else {
			sawDense = sawDense || r.KLDense >= 0
		}
		if r.Rehash == "r7" && r.SinceRehash >= 7 {
			t.Fatalf("steps since rehash %d with rehash every 7", r.SinceRehash)
		}
	}
	if !sawDense || !sawSkip {
		t.Fatalf("dense family: measured %v, skipped above the limit %v", sawDense, sawSkip)
	}
	if recs := readCSV(t, filepath.Join(env.Out, "kl.csv")); len(recs) != len(rows)+1 {
		t.Fatalf("kl.csv has %d rows, want %d", len(recs), len(rows)+1)
	}
	checkPNG(t, filepath.Join(env.Out, "kl_o1_w24_r7.png"))
	checkPNG(t, filepath.Join(env.Out, "kl_vs_width_o1_epoch.png"))
}

// TestRunKLVariantsSmoke: the variants' rows go to kl_loss.csv; mse-sum
// repeats the multi-output rows of kl.csv (the same trajectory and
// estimates), ntk-static does not depend on the linearization, and right
// after a rehash the residual-direction estimate p̂ is ntk-static's (exact
// at w0: KL 0 from p*), which the sum of logits is not.
func TestRunKLVariantsSmoke(t *testing.T) {
	env := testEnv(t)
	c := KLConfig{Data: data.TeacherConfig{N: 150, D: 5, Hidden: 8, O: 1, TailDOF: 3, Noise: 0.1, Seed: 2},
		Outputs: []int{3}, MultiWidths: []int{8}, Rehash: []RehashMode{{Name: "r7", Every: 7}},
		Epochs: 1, Batch: 10, LR: 0.05, MeasureEvery: 4, Hash: PaperHash(), Eps: 0.1, Seed: 1,
		Variants:  DefaultKLVariants(3),
		ClassData: data.ClassTeacherConfig{N: 150, D: 5, Hidden: 8, TailDOF: 3, Sharpness: 4, Imbalance: 4, Seed: 2}}
	rows, err := RunKL(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]KLRow{}
	for _, r := range rows {
		by[r.Variant] = append(by[r.Variant], r)
	}
	base, sum, res, xent := by[""], by["mse-sum"], by["mse-residual"], by["xent"]
	if len(base) == 0 || len(sum) != len(base) || len(res) != len(base) || len(xent) != len(base) {
		t.Fatalf("rows: %d base, %d mse-sum, %d mse-residual, %d xent", len(base), len(sum), len(res), len(xent))
	}
	var sumKL0 float64
	for i := range base {
		b, s, r, x := base[i], sum[i], res[i], xent[i]
		if b.KLNTK != s.KLNTK || b.KLStructured != s.KLStructured || b.TrainLoss != s.TrainLoss {
			t.Fatalf("mse-sum row %d differs from kl.csv's: %+v vs %+v", i, s, b)
		}
		if s.TrainLoss != r.TrainLoss || math.Abs(s.KLStatic-r.KLStatic) > 1e-4 {
			t.Fatalf("row %d: the linearization changed the trajectory or ntk-static: %+v vs %+v", i, s, r)
		}
		for _, v := range []float64{r.KLNTK, r.KLStatic, r.KLStructured, x.KLNTK, x.KLStatic, x.KLStructured, x.KLUniform} {
			if !(v >= -1e-12) || math.IsInf(v, 0) { // 0 up to rounding right after a rehash
				t.Fatalf("bad KL in %+v or %+v", r, x)
			}
		}
		if r.SinceRehash == 0 {
			if r.KLNTK > 1e-6 || x.KLNTK > 1e-6 {
				t.Fatalf("iter %d: KL(p*‖p̂) %g (mse-residual), %g (xent) right after a rehash", r.Iter, r.KLNTK, x.KLNTK)
			}
			sumKL0 = max(sumKL0, s.KLNTK)
		}
	}
	if !(sumKL0 > 1e-3) {
		t.Errorf("the sum-of-logits estimate is exact right after a rehash (KL %g): the comparison measures nothing", sumKL0)
	}
	if recs := readCSV(t, filepath.Join(env.Out, "kl_loss.csv")); len(recs) != 3*len(base)+1 || recs[0][0] != "variant" {
		t.Fatalf("kl_loss.csv has %d rows, want %d", len(recs), 3*len(base)+1)
	}
	if _, err := os.Stat(filepath.Join(env.Out, "kl_loss_summary.md")); err != nil {
		t.Fatal(err)
	}
}

func TestRunAblationSmoke(t *testing.T) {
	env := testEnv(t)
	def := PaperHash()
	c := AblationConfig{Data: data.TeacherConfig{N: 200, D: 5, Hidden: 8, O: 1, Noise: 0.1, Seed: 1}, Tails: []float64{3, 0}, Widths: []int{8},
		Batch: 10, Iters: 30, LR: 0.05, Phases: []int{0, 20}, Since: []int{0, 4, 10},
		Variants: AblationGrid(def, []int{1, 3}, []int{8}, []float64{0.01}), HashSeeds: 2, Eps: 0.1, Seed: 1, Default: "paper K1 L8"}
	res, err := RunAblation(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(c.Tails) * len(c.Widths) * len(c.Phases) * len(c.Since) * len(c.Variants) * c.HashSeeds; len(res.Rows) != want {
		t.Fatalf("%d rows, want %d", len(res.Rows), want)
	}
	for _, r := range res.Rows {
		if !(r.Ratio >= r.Ideal*(1-1e-9)) || !(r.Static >= r.Ideal*(1-1e-9)) || !(r.KL >= 0) {
			t.Fatalf("row violates ratio ≥ ideal or KL ≥ 0: %+v", r)
		}
	}
	for i := 1; i < len(res.Ranking); i++ {
		if res.Ranking[i].GeoRatio < res.Ranking[i-1].GeoRatio {
			t.Fatal("ranking not sorted")
		}
	}
	raw, err := os.ReadFile(filepath.Join(env.Out, "ablation_best.json"))
	if err != nil {
		t.Fatal(err)
	}
	var b BestLSH
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	if b.Hash != res.Ranking[0].Hash || b.RehashEvery < 1 {
		t.Fatalf("best.json %+v, ranking top %+v", b, res.Ranking[0])
	}
	checkPNG(t, filepath.Join(env.Out, "ablation_ratio_vs_K.png"))
	checkPNG(t, filepath.Join(env.Out, "ablation_since_t3_w8.png"))
	md, _ := os.ReadFile(filepath.Join(env.Out, "ablation_summary.md"))
	if !strings.Contains(string(md), "`paper K1 L8` by regime") {
		t.Fatalf("summary lacks the default's regime table:\n%s", md)
	}
}

// TestSummaryWithoutTarget: when uniform diverged on every seed there is
// no per-seed target, and the summary says so instead of printing an
// empty range (+Inf to -Inf).
func TestSummaryWithoutTarget(t *testing.T) {
	d, err := data.Teacher(data.TeacherConfig{N: 20, D: 3, Hidden: 4, O: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	c := ConvergenceConfig{Name: "nt", Train: d, Batch: 4, Iters: 5, LR: 1, Seeds: 1}
	if err := writeConvergenceSummary(Env{Out: dir, Backend: kernels.Generic}, c, &ConvergenceResult{SeedTarget: map[uint64]float64{}}, "m"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "convergence_nt_summary.md"))
	if err != nil {
		t.Fatal(err)
	}
	if s := string(md); !strings.Contains(s, "No target: uniform diverged on every seed") || strings.Contains(s, "Inf") {
		t.Errorf("summary without a target:\n%s", s)
	}
}

// TestRunAblationCheapVariants: the cheap-hashing variants (fewer tables,
// the sparse family, ntk-drift fixed and fitted) run beside lsh ones; the
// drift variants are measured once per context, and the best lsh
// configuration is never a drift variant.
func TestRunAblationCheapVariants(t *testing.T) {
	env := testEnv(t)
	base := PaperHash()
	base.Query, base.Alpha, base.K, base.L = ntk.QueryRecentred, 0.01, 1, 64
	vs := CheapVariants(base, 10)
	c := AblationConfig{Data: data.TeacherConfig{N: 150, D: 5, Hidden: 8, O: 1, Noise: 0.1, Seed: 1}, Tails: []float64{3}, Widths: []int{40},
		Batch: 10, Iters: 30, LR: 0.05, Phases: []int{0, 20}, Since: []int{0, 10}, Variants: vs, HashSeeds: 2, Eps: 0.1, Seed: 1,
		Default: vs[2].Name, Show: []string{vs[len(vs)-1].Name}}
	res, err := RunAblation(context.Background(), env, c)
	if err != nil {
		t.Fatal(err)
	}
	perCtx := len(c.Phases) * len(c.Since)
	count := map[string]int{}
	for _, r := range res.Rows {
		count[r.Variant]++
		if !(r.Ratio >= r.Ideal*(1-1e-9)) {
			t.Fatalf("row below the ideal: %+v", r)
		}
	}
	for _, v := range vs {
		want := perCtx * c.HashSeeds
		if !v.isLSH() {
			want = perCtx
		}
		if count[v.Name] != want {
			t.Errorf("%s: %d rows, want %d", v.Name, count[v.Name], want)
		}
	}
	for _, v := range vs {
		if v.Hash == res.Best.Hash && !v.isLSH() && v.Hash != base {
			t.Errorf("best is the drift variant %s", v.Name)
		}
	}
	if !strings.Contains(res.Best.Source, "recentred") {
		t.Errorf("best lsh %q is not an lsh variant", res.Best.Source)
	}
	md, _ := os.ReadFile(filepath.Join(env.Out, "ablation_summary.md"))
	if !strings.Contains(string(md), "`"+vs[len(vs)-1].Name+"` by regime") {
		t.Errorf("summary lacks the fitted drift's regime table")
	}
}
