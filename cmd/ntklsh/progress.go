package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sync"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter shows a run's progress on stderr: a progress bar with rate and
// ETA on a terminal, plain lines otherwise, JSON objects with --log-format
// json, nothing but errors with --quiet.
type reporter struct {
	mu      sync.Mutex
	w       io.Writer
	quiet   bool
	enc     *json.Encoder
	tty     bool
	bar     *progressbar.ProgressBar
	desc    string
	lastLog time.Time
	// steps: the run has a calculated step size (gn, newton), whose
	// diagnostics since the last evaluation row acc holds; trainDesc is
	// the bar's description while training (with the last row's t, λ).
	steps     bool
	acc       stepAcc
	trainDesc string
}

// stepAcc sums a calculated step size's diagnostics (engine.StepStats)
// over the iterations since the last evaluation row.
type stepAcc struct {
	n, rejected          int
	t, pred, act, lambda float64
}

func (a *stepAcc) add(st engine.StepStats) {
	a.n++
	a.t += st.T
	a.pred += st.PredDecrease
	a.act += st.ActualDecrease
	a.lambda = st.Lambda
	if st.Rejected {
		a.rejected++
	}
}

// stepHeader and stepColumns are the progress line's extra columns under
// a calculated step size: the mean step t, the last step's damping λ, the
// mean predicted and actual decrease of the weighted minibatch loss per
// step and the number of rejected (undone) steps, since the previous row.
const stepHeader = " %10s %8s %10s %10s %5s"

func (a stepAcc) columns() string {
	if a.n == 0 {
		return fmt.Sprintf(stepHeader, "-", "-", "-", "-", "-")
	}
	n := float64(a.n)
	return fmt.Sprintf(" %10.4g %8.3g %10.4g %10.4g %5d", a.t/n, a.lambda, a.pred/n, a.act/n, a.rejected)
}

// fields adds the step diagnostics to a JSON eval event.
func (a stepAcc) fields(ev map[string]any) {
	if a.n == 0 {
		return
	}
	n := float64(a.n)
	ev["steps"], ev["step_t_mean"], ev["lambda"] = a.n, jsonNum(a.t/n), jsonNum(a.lambda)
	ev["pred_decrease_mean"], ev["actual_decrease_mean"], ev["rejected_steps"] = jsonNum(a.pred/n), jsonNum(a.act/n), a.rejected
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func newReporter(w io.Writer, quiet, asJSON bool) *reporter {
	r := &reporter{w: w, quiet: quiet, tty: isTerminal(w)}
	if asJSON {
		r.enc = json.NewEncoder(w)
	}
	return r
}

func (r *reporter) clearBar() {
	if r.bar != nil {
		r.bar.Clear()
	}
}

// event reports something that happened; text is what a person reads (may
// be empty), fields what --log-format json writes.
func (r *reporter) event(kind string, fields map[string]any, text string) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.enc != nil {
		fields["event"] = kind
		fields["time"] = time.Now().UTC().Format(time.RFC3339Nano)
		r.enc.Encode(fields)
		return
	}
	if text != "" {
		r.clearBar()
		fmt.Fprint(r.w, text)
	}
}

// beginRun starts a run's progress; steps: it has a calculated step size
// (gn, newton), whose diagnostics the rows then show.
func (r *reporter) beginRun(desc string, iters int, steps bool) {
	head := fmt.Sprintf("%8s %7s %9s %12s %12s %8s %8s %8s %8s %8s", "iter", "epoch", "train_s", "train_loss", "test_loss", "2nd_mom", "est_2nd", "ideal", "ess", "max_w")
	if steps {
		head += fmt.Sprintf(stepHeader, "step_t", "lambda", "pred_dec", "act_dec", "rej")
	}
	r.mu.Lock()
	r.steps, r.acc, r.trainDesc = steps, stepAcc{}, "training"
	r.mu.Unlock()
	r.event("run", map[string]any{"config": desc, "iters": iters}, "== "+desc+"\n"+head+"\n")
	if r.quiet || r.enc != nil || !r.tty {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.desc = "training"
	r.bar = progressbar.NewOptions(iters, progressbar.OptionSetWriter(r.w), progressbar.OptionSetDescription(r.desc),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("it"),
		progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
}

func (r *reporter) iter(done int) {
	if r.bar == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.desc != r.trainDesc {
		r.desc = r.trainDesc
		r.bar.Describe(r.desc)
	}
	r.bar.Set(done)
}

// step records one iteration's calculated-step diagnostics for the next
// evaluation row (a no-op for the fixed step).
func (r *reporter) step(st engine.StepStats) {
	if r.quiet || st.StepSize == "" {
		return
	}
	r.mu.Lock()
	r.acc.add(st)
	r.mu.Unlock()
}

func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

func (r *reporter) eval(sampler string, e engine.Eval) {
	ev := map[string]any{"sampler": sampler, "iter": e.Iter, "epoch": e.Epoch, "train_s": e.TrainSeconds,
		"train_loss": jsonNum(e.TrainLoss), "test_loss": jsonNum(e.TestLoss), "second_moment_ratio": jsonNum(e.SecondMoment),
		"ideal_ratio": jsonNum(e.Ideal), "kl": jsonNum(e.KL), "ess_fraction": jsonNum(e.ESS), "max_weight": jsonNum(e.MaxWeight),
		"est_second_moment_ratio": jsonNum(e.EstSecondMoment), "uniform_draws": e.Uniform}
	if e.TrainXent != 0 || e.TrainAccuracy != 0 { // a classifier
		ev["train_acc"], ev["test_acc"] = jsonNum(e.TrainAccuracy), jsonNum(e.TestAccuracy)
		ev["train_xent"], ev["test_xent"] = jsonNum(e.TrainXent), jsonNum(e.TestXent)
	}
	cols := ""
	r.mu.Lock()
	if r.steps {
		r.acc.fields(ev)
		cols = r.acc.columns()
		if r.acc.n > 0 {
			r.trainDesc = fmt.Sprintf("training t %.3g λ %.3g", r.acc.t/float64(r.acc.n), r.acc.lambda)
		}
		r.acc = stepAcc{}
	}
	r.mu.Unlock()
	r.event("eval", ev,
		fmt.Sprintf("%8d %7.2f %9.3f %12.6g %12.6g %8.3f %8.3f %8.3f %8.3f %8.3g%s%s\n", e.Iter, e.Epoch, e.TrainSeconds, e.TrainLoss, e.TestLoss,
			e.SecondMoment, e.EstSecondMoment, e.Ideal, e.ESS, e.MaxWeight, cols, uniformMark(e.Uniform)))
}

// rehash reports a rehash's progress; it is called from several goroutines.
func (r *reporter) rehash(done, total int) {
	if r.quiet {
		return
	}
	r.mu.Lock()
	if r.bar != nil {
		r.desc = fmt.Sprintf("rehash %3.0f%%", 100*float64(done)/float64(total))
		r.bar.Describe(r.desc)
		r.mu.Unlock()
		return
	}
	// Plain lines: at most one every 5 seconds, and the end of long ones.
	now := time.Now()
	show := now.Sub(r.lastLog) > 5*time.Second
	if show {
		r.lastLog = now
	}
	r.mu.Unlock()
	if show && done < total {
		r.event("rehash", map[string]any{"done": done, "total": total}, fmt.Sprintf("rehash: %d of %d examples\n", done, total))
	}
}

func (r *reporter) endRun() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Finish()
		r.bar = nil
	}
}

// loading returns the progress callback of reading a data file.
func (r *reporter) loading(path string) func(done, total int64) {
	if r.quiet {
		return nil
	}
	start := time.Now()
	return func(done, total int64) {
		r.mu.Lock()
		if r.tty && r.enc == nil {
			if r.bar == nil {
				r.bar = progressbar.NewOptions64(max(total, 1), progressbar.OptionSetWriter(r.w), progressbar.OptionSetDescription("loading "+path),
					progressbar.OptionShowBytes(true), progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100*time.Millisecond),
					progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
			}
			r.bar.Set64(done)
			r.mu.Unlock()
			return
		}
		now := time.Now()
		show := now.Sub(r.lastLog) > 5*time.Second && now.Sub(start) > 5*time.Second
		if show {
			r.lastLog = now
		}
		r.mu.Unlock()
		if show {
			r.event("loading", map[string]any{"file": path, "bytes": done, "total": total},
				fmt.Sprintf("loading %s: %.0f%% (%d of %d bytes)\n", path, 100*float64(done)/float64(max(total, 1)), done, total))
		}
	}
}

func (r *reporter) endLoading() { r.endRun() }

// uniformMark flags an evaluation row whose draws are uniform although the
// sampler is not (background warm start, automatic fallback).
func uniformMark(u bool) string {
	if u {
		return " (uniform draws)"
	}
	return ""
}
