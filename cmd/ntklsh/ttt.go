package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/experiment"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// tttSetting is one setting of the time-to-target presets.
type tttSetting struct {
	name             string
	train, val, test *data.Dataset
	tuneTrain        *data.Dataset
	hidden           []int
	batch, evals     int
	epochs           float64
	lrs              []float64
	extend           int
	tuneSeeds, seeds int
	note             string
}

// tttSplit splits off testFrac for the test set (standardizing on the
// rest, as `ntklsh train` does) and valFrac of the rest for validation.
func tttSplit(all *data.Dataset, testFrac, valFrac float64, seed uint64) (train, val, test *data.Dataset, err error) {
	rest, test, err := experiment.Prepare(all, testFrac, seed)
	if err != nil {
		return nil, nil, nil, err
	}
	train, val, err = data.Split(rest, valFrac, seed+1)
	return train, val, test, err
}

// subsample returns a random fraction of d (at least one point).
func subsample(d *data.Dataset, frac float64, seed uint64) *data.Dataset {
	n := max(1, int(math.Round(frac*float64(d.N))))
	perm := rand.New(rand.NewPCG(seed, 0x5ab5)).Perm(d.N)[:n]
	s := d.Subset(perm)
	s.Name = d.Name
	return s
}

// scaledLR is experiment's rule: base up to width 32, base·32/width above
// (the NTK grows with the width under the standard parametrization).
func scaledLR(base float64, width int) float64 {
	if width <= 32 {
		return base
	}
	return base * 32 / float64(width)
}

// The class teacher of the classification settings (--loss xent): 5
// classes, the most frequent 10 times the least, sharpness 4.
const (
	tttClasses   = 5
	tttImbalance = 10
	tttSharpness = 4
)

// loadExpData reads --data for the experiments: the CSV target column
// --target (one-hot over --onehot classes with --loss xent).
func loadExpData(f expFlags) (*data.Dataset, error) {
	all, err := data.Load(f.dataPath, f.format, data.CSVOptions{Target: f.target, Targets: 1, Header: data.HeaderAuto, MaxRows: f.maxRows, OneHot: f.oneHot},
		data.LIBSVMOptions{MaxRows: f.maxRows, OneHot: f.oneHot})
	if err != nil {
		return nil, err
	}
	if f.loss == "xent" && (all.O < 2 || len(all.Classes) != all.O) {
		return nil, fmt.Errorf("--loss xent: %s has %d target column(s) and no class labels; give --onehot K for a class column of K classes", f.dataPath, all.O)
	}
	all.Name = sanitize(all.Name)
	return all, nil
}

func tttSettings(f expFlags) ([]tttSetting, error) {
	xent := f.loss == "xent"
	teacher := func(n, d int, tail float64) (*data.Dataset, error) {
		var all *data.Dataset
		var err error
		if xent {
			all, err = data.ClassTeacher(data.ClassTeacherConfig{N: n, D: d, Hidden: 32, Classes: tttClasses, TailDOF: tail,
				Sharpness: tttSharpness, Imbalance: tttImbalance, Seed: 1})
		} else {
			all, err = data.Teacher(data.TeacherConfig{N: n, D: d, Hidden: 32, O: 1, TailDOF: tail, Noise: 0.1, Seed: 1})
		}
		if err != nil {
			return nil, err
		}
		all.Name = fmt.Sprintf("%s-t%g", all.Name, tail)
		if tail <= 0 {
			all.Name = strings.TrimSuffix(all.Name, "-t0") + "-gaussian"
		}
		return all, nil
	}
	// suffix marks the classification settings' names.
	suffix := ""
	if xent {
		suffix = "-xent"
	}
	third := math.Cbrt(10) // three grid points per decade
	var sets []tttSetting
	switch f.scale {
	case "smoke", "paper":
		// Under --loss xent with --data, the data set replaces the class
		// teacher.
		var all *data.Dataset
		var err error
		switch {
		case xent && f.dataPath != "":
			all, err = loadExpData(f)
		case f.scale == "smoke":
			all, err = teacher(400, 8, 3)
		default:
			// The synthetic Student-t(3) teacher of the convergence
			// experiment (1000 training points before the validation
			// split).
			all, err = teacher(1250, 16, 3)
		}
		if err != nil {
			return nil, err
		}
		tr, va, te, err := tttSplit(all, 0.2, 0.2, 1)
		if err != nil {
			return nil, err
		}
		name := f.scale + suffix
		if xent && f.dataPath != "" {
			name = f.scale + "-" + all.Name
		}
		if f.scale == "smoke" {
			sets = append(sets, tttSetting{name: name, train: tr, val: va, test: te, hidden: []int{8}, batch: 8, epochs: 3, evals: 12,
				lrs: experiment.LogGrid(0.05, 3, 5), extend: 1, tuneSeeds: 1, seeds: 2})
			break
		}
		// 10 epochs at width 32 and 256 (64 for --data).
		widths := []int{32, 256}
		if xent && f.dataPath != "" {
			widths = []int{64}
		}
		for _, w := range widths {
			sets = append(sets, tttSetting{name: fmt.Sprintf("%s-w%d", name, w), train: tr, val: va, test: te, hidden: []int{w}, batch: 10,
				epochs: 10, evals: 40, lrs: experiment.LogGrid(scaledLR(0.05, w), third, 7), extend: 2, tuneSeeds: 3, seeds: 10})
		}
	case "large":
		// ≥100k training points at width 1024 (and one narrow width), 5
		// epochs. To fit 2 cores, the grid is subsampled: 5 learning
		// rates half a decade apart, one tuning seed, and the tuning
		// runs train on a random 20% of the training set for the same 5
		// epochs; the final runs use all of it.
		note := "Large scale, grid subsampled to fit 2 cores: 5 learning rates half a decade apart, 1 tuning seed, tuning runs on a random 20% of the training set for the same number of epochs (a fifth of the iterations); the final runs train on all of it."
		var alls []*data.Dataset
		for _, t := range strings.Split(f.teachers, ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			v, err := strconv.ParseFloat(t, 64)
			if err != nil || v < 0 || v > 1e6 || v > 0 && v < 1 {
				return nil, fmt.Errorf("--teachers %q: each must be 0 (Gaussian) or a number of degrees of freedom ≥ 1", f.teachers)
			}
			all, err := teacher(160000, 16, v)
			if err != nil {
				return nil, err
			}
			alls = append(alls, all)
		}
		if f.dataPath != "" {
			all, err := loadExpData(f)
			if err != nil {
				return nil, err
			}
			alls = append(alls, all)
		}
		userWidths, err := parseWidths(f.widths)
		if err != nil {
			return nil, err
		}
		for i, all := range alls {
			tr, va, te, err := tttSplit(all, 0.2, 0.1, 1)
			if err != nil {
				return nil, err
			}
			widths := []int{1024}
			if i == 0 {
				widths = append(widths, 64)
			}
			if userWidths != nil {
				widths = userWidths
			}
			for _, w := range widths {
				sets = append(sets, tttSetting{name: fmt.Sprintf("large-%s-w%d%s", all.Name, w, suffix), train: tr, val: va, test: te,
					tuneTrain: subsample(tr, 0.2, 7), hidden: []int{w}, batch: 32, epochs: 5, evals: 25,
					lrs: experiment.LogGrid(scaledLR(0.16, w), math.Sqrt(10), 5), extend: 1, tuneSeeds: 1, seeds: 5, note: note})
			}
		}
	}
	if f.lrPoints > 0 {
		for i := range sets {
			sets[i].regrid(f.lrPoints)
		}
	}
	return sets, nil
}

// parseWidths parses --widths (nil when empty).
func parseWidths(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []int
	for _, w := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || v < 1 || v > 1<<16 {
			return nil, fmt.Errorf("--widths %q: each must be an integer in [1, 65536]", s)
		}
		out = append(out, v)
	}
	return out, nil
}

// regrid spreads n learning rates log-evenly over the setting's grid range,
// scaling the edge extensions to cover the same span.
func (s *tttSetting) regrid(n int) {
	lo, hi := s.lrs[0], s.lrs[len(s.lrs)-1]
	old := len(s.lrs)
	ratio := math.Pow(hi/lo, 1/float64(n-1))
	s.lrs = experiment.LogGrid(math.Sqrt(lo*hi), ratio, n)
	s.extend = int(math.Ceil(float64(s.extend*(n-1)) / float64(old-1)))
}

func expTimeToTarget(ctx context.Context, env experiment.Env, f expFlags, stdout io.Writer) error {
	sets, err := tttSettings(f)
	if err != nil {
		return err
	}
	keep := 0
	if f.keepSet {
		keep = f.keep
	}
	ms, err := experiment.SelectTTTMethods(experiment.TTTMethods(keep, f.growth, f.clipNorm, f.oracles), f.methods)
	if err != nil {
		return err
	}
	loss, note := "", ""
	if f.loss == "xent" {
		loss = f.loss
		var dropped []string
		if ms, dropped = experiment.SupportedTTTMethods(ms, loss); len(dropped) > 0 {
			note = "Left out under the cross-entropy loss: " + strings.Join(dropped, "; ") + "."
			fmt.Fprintf(stdout, "%s\n", note)
		}
	}
	var md strings.Builder
	for _, s := range sets {
		if f.seeds > 0 {
			s.seeds = f.seeds
		}
		if f.tuneSeeds > 0 {
			s.tuneSeeds = f.tuneSeeds
		}
		if f.extend >= 0 {
			s.extend = f.extend
		}
		if f.lrPoints > 0 || f.tuneSeeds > 0 || f.extend >= 0 {
			s.note = strings.TrimSpace(s.note + fmt.Sprintf(" Grid as run: %d learning rates %.3g× apart (%.3g … %.3g, up to %d more at each edge), %d tuning seeds.",
				len(s.lrs), s.lrs[1]/s.lrs[0], s.lrs[0], s.lrs[len(s.lrs)-1], s.extend, s.tuneSeeds))
		}
		if f.commonGrid {
			s.note = strings.TrimSpace(s.note + " Common grid: every method was also tuned at every grid point any method tried (after the edge extensions).")
		}
		if f.tuned != "" {
			s.note = strings.TrimSpace(s.note + " Final runs only: each method's choice comes from the tuning grid in " + f.tuned + ".")
			if f.commonGrid {
				s.note += " Common-grid points missing there were tuned in this run."
			}
		}
		var tuned map[string][]experiment.GridPoint
		if f.tuned != "" {
			if tuned, err = experiment.ReadTTTGrid(filepath.Join(f.tuned, "ttt_"+s.name+"_grid.csv")); err != nil {
				return fmt.Errorf("--tuned: %w", err)
			}
		}
		res, err := experiment.RunTimeToTarget(ctx, env, experiment.TTTConfig{Name: s.name, Train: s.train, Val: s.val, Test: s.test,
			TuneTrain: s.tuneTrain, Hidden: s.hidden, Act: nn.ReLU, Batch: s.batch, Epochs: s.epochs, Evals: s.evals, LRs: s.lrs,
			Schedules: []string{"constant", "cosine"}, Extend: s.extend, TuneSeeds: s.tuneSeeds, Seeds: s.seeds, SeedBase: 1, Methods: ms,
			Note: strings.TrimSpace(s.note + " " + note), Loss: loss, Tuned: tuned, CommonGrid: f.commonGrid})
		if err != nil {
			return err
		}
		what := "loss"
		if res.Classify {
			what = "cross-entropy"
		}
		fmt.Fprintf(stdout, "\ntime-to-target %s (target test %s %.5g):\n%s", s.name, what, res.Target, res.TTTSummaryTable())
		md.WriteString(res.Markdown)
		md.WriteString("\n")
	}
	return os.WriteFile(filepath.Join(env.Out, "ttt_summary.md"), []byte(md.String()), 0o644)
}
