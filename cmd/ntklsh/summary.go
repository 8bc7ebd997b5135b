package main

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/experiment"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// lossDefinition says what every loss the CLI prints is.
const lossDefinition = "loss: ½·Σ over outputs of (f − y)², averaged over points, in standardized units"

// summaryRow is one sampler's line of the summary; note, when set, says why
// the run did not finish (its numbers are then those of its last
// evaluation).
type summaryRow struct {
	res  *engine.Result
	note string
	loss nn.Loss // the training loss (MSE: the zero value)
}

// xentDefinition replaces lossDefinition for runs with --loss xent.
const xentDefinition = "loss: softmax cross-entropy −Σ_o y_o log softmax(f)_o, averaged over points"

// classifier says whether the rows are a classifier's (two or more
// outputs): their evaluations carry accuracies, which the summary shows.
func classifier(rows []summaryRow) bool {
	for _, r := range rows {
		if fin := r.final(); fin.TrainXent != 0 || fin.TrainAccuracy != 0 {
			return true
		}
	}
	return false
}

// final is the row's last evaluation.
func (r summaryRow) final() engine.Eval {
	if r.note == "" || len(r.res.Evals) == 0 {
		return r.res.Final
	}
	return r.res.Evals[len(r.res.Evals)-1]
}

// targetSlack is how far above the target a run may rise after reaching it
// and still count as having reached it.
const targetSlack = 1.1

// timeToTarget returns the training seconds and iteration of the first
// evaluation whose loss (test loss when useTest, else train loss) is at most
// target and after which every evaluation stays at most targetSlack × target:
// a run that reaches the target and then spikes above it has not reached it
// at that point.
func timeToTarget(r *engine.Result, target float64, useTest bool) (float64, int, bool) {
	first := -1
	for k, e := range r.Evals {
		l := e.TrainLoss
		if useTest {
			l = e.TestLoss
		}
		switch {
		case !(l <= targetSlack*target): // above the slack, or NaN
			first = -1
		case first < 0 && l <= target:
			first = k
		}
	}
	if first < 0 {
		return 0, 0, false
	}
	return r.Evals[first].TrainSeconds, r.Evals[first].Iter, true
}

// cell formats v, or "–" when it is not a number (the summary says why
// below the table).
func cell(format string, v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return fmt.Sprintf(format, v)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// summaryTarget picks the loss the summary races to: the test loss when
// there is a test set, else the train loss; target, when positive, is given;
// else it is targetSlack × the lowest final loss of the rows that finished
// (the best method's quality, loosened by the slack that the stays-below
// rule allows).
func summaryTarget(rows []summaryRow, target float64) (float64, bool) {
	// Every row shares the test set, so one evaluated test loss says there
	// is one (a diverged row's may be Inf or NaN).
	useTest := false
	for _, r := range rows {
		useTest = useTest || finite(r.final().TestLoss)
	}
	if target > 0 {
		return target, useTest
	}
	best := math.Inf(1)
	for _, r := range rows {
		if r.note != "" {
			continue
		}
		l := r.final().TrainLoss
		if useTest {
			l = r.final().TestLoss
		}
		if finite(l) {
			best = math.Min(best, l)
		}
	}
	if math.IsInf(best, 1) {
		return math.NaN(), useTest
	}
	return targetSlack * best, useTest
}

func printSummary(w io.Writer, rows []summaryRow, target float64) {
	target, useTest := summaryTarget(rows, target)
	which := "train"
	if useTest {
		which = "test"
	}
	def := lossDefinition
	if len(rows) > 0 && rows[0].loss == nn.Xent {
		def = xentDefinition
	}
	cls := classifier(rows)
	fmt.Fprintf(w, "\nsummary (%s; target %s loss %s, reached at the first evaluation at or below it after which the loss stays below %.1f× it;\n",
		def, which, cell("%.6g", target), targetSlack)
	fmt.Fprintf(w, "times are training seconds: sampling + gradient + rehash, evaluation excluded;\n")
	fmt.Fprintf(w, "2nd-moment ratio: E|ĝ|² of the one-draw estimator ÷ uniform's, median over evaluations; ideal: p ∝ true |g_i|)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "sampler\ttrain loss\ttest loss\ttrain s\twall s\titers\ts to target\titers to target\t2nd-moment ratio\tideal\t"
	if cls {
		head += "train acc\ttest acc\t"
	}
	fmt.Fprintln(tw, head)
	var why []string
	once := map[string]bool{}
	explain := func(s string) {
		if !once[s] {
			once[s] = true
			why = append(why, s)
		}
	}
	for _, r := range rows {
		fin := r.final()
		var sm, id []float64
		if len(r.res.Evals) > 1 {
			for _, e := range r.res.Evals[1:] {
				sm = append(sm, e.SecondMoment)
				id = append(id, e.Ideal)
			}
		}
		tt, it, ok := timeToTarget(r.res, target, useTest)
		tts, its := "not reached", "-"
		// A run that diverged or was cut short did not stay below the
		// target to its end, whatever its last evaluation said.
		if ok && r.note == "" {
			tts, its = fmt.Sprintf("%.3f", tt), fmt.Sprint(it)
		}
		msm, mid := experiment.Median(sm), experiment.Median(id)
		if math.IsNaN(fin.TestLoss) && !useTest {
			explain("test loss –: no test set (--test-frac 0 and no --test)")
		}
		if math.IsNaN(mid) {
			explain("2nd-moment ratio and ideal –: no diagnostics (--diag-subset 0, or no evaluation after the first)")
		} else if math.IsNaN(msm) {
			explain(fmt.Sprintf("2nd-moment ratio –: the %s sampler has no per-draw probability to score", r.res.Sampler))
		}
		wall := cell("%.3f", r.res.Wall.Seconds())
		if r.note != "" {
			wall = "–"
			explain(fmt.Sprintf("%s: %s; its row shows its last evaluation", r.res.Sampler, r.note))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.3f\t%s\t%d\t%s\t%s\t%s\t%s\t", r.res.Sampler, cell("%.6g", fin.TrainLoss), cell("%.6g", fin.TestLoss),
			fin.TrainSeconds, wall, fin.Iter, tts, its, cell("%.3f", msm), cell("%.3f", mid))
		if cls {
			fmt.Fprintf(tw, "%s\t%s\t", cell("%.4f", fin.TrainAccuracy), cell("%.4f", fin.TestAccuracy))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	if math.IsNaN(target) {
		explain("no target: no sampler finished with a finite loss")
	}
	for _, s := range why {
		fmt.Fprintln(w, s)
	}
}

// plotRuns draws each run's test loss (train loss without a test set)
// against training seconds into a PNG file.
func plotRuns(path string, rows []summaryRow, target float64) error {
	target, useTest := summaryTarget(rows, target)
	which := "train"
	if useTest {
		which = "test"
	}
	lp := experiment.LinePlot{Title: which + " loss against training seconds", XLabel: "training seconds (sampling + gradient + rehash)",
		YLabel: which + " loss (½·squared error, standardized)", LogY: true, HLine: target, HLineName: "target"}
	for k, r := range rows {
		s := experiment.Series{Name: r.res.Sampler, ColorSlot: k}
		for _, e := range r.res.Evals {
			l := e.TrainLoss
			if useTest {
				l = e.TestLoss
			}
			s.X = append(s.X, e.TrainSeconds)
			s.Y = append(s.Y, l)
		}
		lp.Series = append(lp.Series, s)
	}
	if err := lp.Save(path); err != nil {
		return fmt.Errorf("--plot %s: %w", path, err)
	}
	return nil
}
