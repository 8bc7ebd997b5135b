package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
)

func evals(losses ...float64) *engine.Result {
	r := &engine.Result{Sampler: "planted"}
	for k, l := range losses {
		r.Evals = append(r.Evals, engine.Eval{Iter: 10 * k, TrainSeconds: float64(k), TrainLoss: l, TestLoss: l})
	}
	r.Final = r.Evals[len(r.Evals)-1]
	return r
}

// TestTimeToTargetStaysBelow plants a method that reaches the target and
// then spikes above 1.1× it: the first crossing does not count, the later
// one that stays does.
func TestTimeToTargetStaysBelow(t *testing.T) {
	r := evals(5, 0.9, 0.95, 3, 0.99, 1.05, 0.8)
	sec, it, ok := timeToTarget(r, 1, true)
	if !ok || it != 40 || sec != 4 {
		t.Fatalf("got %v s, iteration %d, %v; want the crossing at iteration 40 after the spike", sec, it, ok)
	}
	// Within the slack the first crossing stands.
	if _, it, _ := timeToTarget(evals(5, 0.9, 1.08, 0.7), 1, true); it != 10 {
		t.Fatalf("iteration %d, want 10", it)
	}
	// Ending above the slack: never reached.
	if _, _, ok := timeToTarget(evals(5, 0.5, 0.5, 2), 1, true); ok {
		t.Fatal("a run that ends above the target's slack reached it")
	}
	if _, _, ok := timeToTarget(evals(5, 0.5, math.NaN()), 1, true); ok {
		t.Fatal("a run that ends in NaN reached it")
	}
}

// TestSummaryTargetFromBest: the default target is derived from the best
// method's final test loss, not the worst, and a diverged row is ignored.
func TestSummaryTargetFromBest(t *testing.T) {
	rows := []summaryRow{{res: evals(5, 2, 1)}, {res: evals(5, 0.5, 0.4)}, {res: evals(5, math.Inf(1)), note: "diverged at iteration 10"}}
	target, useTest := summaryTarget(rows, 0)
	if !useTest || math.Abs(target-0.44) > 1e-12 {
		t.Fatalf("target %v (test %v), want 1.1 × 0.4", target, useTest)
	}
	var out bytes.Buffer
	printSummary(&out, rows, 0)
	if !strings.Contains(out.String(), "target test loss 0.44") || !strings.Contains(out.String(), lossDefinition) {
		t.Fatalf("summary:\n%s", out.String())
	}
}

func TestTrainPlot(t *testing.T) {
	p := filepath.Join(t.TempDir(), "curves.png")
	if _, _, err := run(t, append(append([]string{}, small...), "--sampler", "uniform,ntk-static", "--plot", p)...); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil || len(b) < 1000 || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("plot: %d bytes, %v", len(b), err)
	}
	if _, _, err := run(t, append(append([]string{}, small...), "--plot", "x.pdf")...); err == nil || !strings.Contains(err.Error(), "--plot x.pdf") {
		t.Fatalf("error %v", err)
	}
}

// TestDivergedRowNotReached: a run that diverged did not stay below the
// target, even if its last evaluation before diverging was below it.
func TestDivergedRowNotReached(t *testing.T) {
	rows := []summaryRow{{res: evals(5, 0.5, 0.4)}, {res: evals(5, 0.1), note: "diverged at iteration 30"}}
	var out bytes.Buffer
	printSummary(&out, rows, 1)
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "planted") && strings.Contains(line, "0.100") && !strings.Contains(line, "not reached") {
			t.Fatalf("diverged row reached the target:\n%s", out.String())
		}
	}
	if strings.Count(out.String(), "not reached") != 1 {
		t.Fatalf("summary:\n%s", out.String())
	}
}
