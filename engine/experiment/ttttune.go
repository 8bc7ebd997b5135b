package experiment

import (
	"math"
	"sort"
)

// lrAt returns the learning rate at grid index i for a method whose grid
// is scaled by mult. Indices 0 … len(LRs)−1 are the base grid; below 0 and
// above it lie the edge extensions, computed by repeated division and
// multiplication by the grid's ratio from the scaled edge — the values the
// tuning has always run, so that a grid read back from a CSV (6 digits)
// maps to the exact rates.
func (c TTTConfig) lrAt(i int, mult float64) float64 {
	n := len(c.LRs)
	ratio := c.LRs[1] / c.LRs[0]
	switch {
	case i < 0:
		lr := c.LRs[0] * mult
		for ; i < 0; i++ {
			lr /= ratio
		}
		return lr
	case i >= n:
		lr := c.LRs[n-1] * mult
		for ; i >= n; i-- {
			lr *= ratio
		}
		return lr
	}
	return c.LRs[i] * mult
}

// indexOf returns the grid index (base grid and up to Extend extensions
// at each edge) whose learning rate agrees with lr to 1e-5 relative, the
// precision of the grid CSV.
func (c TTTConfig) indexOf(lr, mult float64) (int, bool) {
	best, bestErr := 0, math.Inf(1)
	for i := -c.Extend; i < len(c.LRs)+c.Extend; i++ {
		e := c.lrAt(i, mult)
		if d := math.Abs(lr - e); d <= 1e-5*e && d < bestErr {
			best, bestErr = i, d
		}
	}
	return best, !math.IsInf(bestErr, 1)
}

// tttTuner tunes one method's learning rate and schedule on the
// validation split: the base grid, extended one point at a time while the
// best point sits at an edge (up to TTTConfig.Extend points per edge),
// and, with TTTConfig.CommonGrid, every index any other method tried.
type tttTuner struct {
	c    TTTConfig
	meth TTTMethod
	s    TTTSummary
	// tried holds the grid indices (lrAt) in s.Grid.
	tried map[int]bool
	// run trains one tuning run (and records it).
	run func(lr float64, sched string, seed uint64) (TTTRun, error)
	// reused: the grid came from TTTConfig.Tuned; added: points were
	// tuned after that (a larger Extend, the common grid), so the choice
	// is made again.
	reused, added bool
}

// tune runs grid index i under every schedule, once.
func (t *tttTuner) tune(i int) error {
	if t.tried[i] {
		return nil
	}
	t.tried[i] = true
	if t.reused {
		t.added = true
	}
	c := t.c
	lr := c.lrAt(i, t.meth.lrMult())
	for _, sched := range c.Schedules {
		gp := GridPoint{LR: lr, Schedule: sched, Seeds: c.TuneSeeds, Extension: i < 0 || i >= len(c.LRs)}
		var vl, va []float64
		for k := 0; k < c.TuneSeeds; k++ {
			r, err := t.run(lr, sched, c.SeedBase+1000+uint64(k))
			if err != nil {
				return err
			}
			if r.Diverged {
				gp.Diverged++
			}
			vl, va = append(vl, r.finalLoss()), append(va, 1-min(1, r.final(metricError)))
		}
		gp.ValLoss, gp.ValAcc = median(vl), median(va)
		t.s.Grid = append(t.s.Grid, gp)
	}
	return nil
}

// tuneExtending tunes the base grid, then extends it at the edge where
// the best point lies.
func (t *tttTuner) tuneExtending() error {
	for i := range t.c.LRs {
		if err := t.tune(i); err != nil {
			return err
		}
	}
	return t.extend()
}

// extend adds points beyond the tried range's edge while the best point
// sits at that edge, up to Extend points beyond the base grid on each side.
func (t *tttTuner) extend() error {
	c := t.c
	mult := t.meth.lrMult()
	lo, hi := 0, len(c.LRs)-1
	for i := range t.tried {
		lo, hi = min(lo, i), max(hi, i)
	}
	for {
		best := choose(t.s.Grid)
		next := 0
		switch {
		case best.LR == c.lrAt(lo, mult) && lo > -c.Extend && best.ValLoss < math.Inf(1):
			lo--
			next = lo
		case best.LR == c.lrAt(hi, mult) && hi < len(c.LRs)-1+c.Extend && best.ValLoss < math.Inf(1):
			hi++
			next = hi
		default:
			return nil
		}
		if err := t.tune(next); err != nil {
			return err
		}
	}
}

// hasBase reports whether every point of the base grid was tried (a
// reused grid of this setting, not a hand-made one of a few points).
func (t *tttTuner) hasBase() bool {
	for i := range t.c.LRs {
		if !t.tried[i] {
			return false
		}
	}
	return true
}

// tuneAll tunes the indices of want that the method has not tried, in
// ascending order.
func (t *tttTuner) tuneAll(want map[int]bool) error {
	var missing []int
	for i := range want {
		if !t.tried[i] {
			missing = append(missing, i)
		}
	}
	sort.Ints(missing)
	for _, i := range missing {
		if err := t.tune(i); err != nil {
			return err
		}
	}
	return nil
}

// reuse takes the grid of an earlier run (TTTConfig.Tuned), its learning
// rates snapped to the exact grid values.
func (t *tttTuner) reuse(grid []GridPoint) error {
	mult := t.meth.lrMult()
	g := append([]GridPoint(nil), grid...)
	for k := range g {
		if i, ok := t.c.indexOf(g[k].LR, mult); ok {
			g[k].LR = t.c.lrAt(i, mult)
			t.tried[i] = true
		}
	}
	t.reused = true
	return t.s.reuse(g)
}

// finish makes the method's choice: the lowest median validation loss
// (a reused grid keeps its marked choice unless points were added).
func (t *tttTuner) finish() {
	if t.reused && !t.added {
		return
	}
	s := &t.s
	// Chosen in tuning order (ties go to the earlier run), then sorted.
	best := choose(s.Grid)
	sort.SliceStable(s.Grid, func(i, j int) bool {
		if s.Grid[i].Schedule != s.Grid[j].Schedule {
			return s.Grid[i].Schedule < s.Grid[j].Schedule
		}
		return s.Grid[i].LR < s.Grid[j].LR
	})
	s.choose(best)
}

// tuneCommon gives every method every grid index that any method tried,
// so that no method misses a learning rate only because its own best
// point sat inside its grid; a method whose best then sits at the new edge
// extends again, and so on until no method adds a point (the indices are
// bounded by Extend).
func tuneCommon(tuners []*tttTuner) error {
	for grew := true; grew; {
		grew = false
		union := map[int]bool{}
		for _, t := range tuners {
			for i := range t.tried {
				union[i] = true
			}
		}
		for _, t := range tuners {
			n := len(t.s.Grid)
			if err := t.tuneAll(union); err != nil {
				return err
			}
			if !t.reused || t.hasBase() {
				if err := t.extend(); err != nil {
					return err
				}
			}
			grew = grew || len(t.s.Grid) > n
		}
	}
	return nil
}
