package engine

import (
	"math"
)

// A running estimate of the second-moment ratio from the minibatches the
// steps draw anyway. For draws i ~ p with weights w_i = 1/(N p_i) and the
// per-sample gradient norms g_i at the step's parameters (the host stepper
// has them after its backward pass: nn.Batch.GradSqNorms of the scaled
// deltas, O(B·Σ widths)):
//
//	E_p[w² g²] = Σ_i p_i g_i²/(N p_i)² = Σ_i g_i²/(N² p_i)   (the sampler's one-draw second moment)
//	E_p[w g²]  = Σ_i p_i g_i²/(N p_i)  = (1/N) Σ_i g_i²       (uniform's)
//
// so both are unbiased per draw, and their ratio is Eval.SecondMoment's
// Σ g²/p ÷ (N Σ g²). The estimator keeps, per iteration, the minibatch
// means a = mean_b(w_b² g_b²) and u = mean_b(w_b g_b²), averaged since the
// last refresh up to estWindow iterations and exponentially (1/estWindow)
// after, and reports A/U (a ratio of averages, not an average of ratios).
// The draws actually used are what it measures: uniform draws (warm start,
// fallback) have w = 1 and give exactly 1.
//
// Automatic refresh (Config.RehashAuto), in iterations, not seconds, so
// that decisions are deterministic given the seed: the ratio reached estWindow
// iterations after a refresh is r_fresh; after that, each iteration adds
// 1 − r_fresh/r_now to an excess (clamped at 0): the fraction of a step lost
// to the sampler's drift, if the steps needed scale with the second moment
// (the noise-dominated regime). A refresh is due when the excess reaches the
// rehash's cost C in steps (ski rental: never more than twice the best
// schedule's loss for a fixed drift). C is Config.RehashCost, or by default
// the work model of DefaultRehashCost. When r_now ≥ 1 (the sampler no
// better than uniform) the draws are uniform until the next refresh, and
// r_now is then 1.

// EstimatorState is the running estimate and the automatic refresh's state
// (kept in State).
type EstimatorState struct {
	K        int     `json:"k"`      // iterations since the last refresh
	A        float64 `json:"a"`      // average of mean_b(w² g²)
	U        float64 `json:"u"`      // average of mean_b(w g²)
	Fresh    float64 `json:"fresh"`  // the ratio estWindow iterations after the refresh
	Excess   float64 `json:"excess"` // steps lost since then
	Fallback bool    `json:"fallback,omitempty"`
}

func (e *EstimatorState) reset() { *e = EstimatorState{} }

// ratio returns the current estimate (NaN before a draw).
func (e *EstimatorState) ratio() float64 {
	if e.K == 0 || !(e.U > 0) {
		return math.NaN()
	}
	return e.A / e.U
}

// add records one iteration's a and u; auto runs the refresh's bookkeeping.
func (e *EstimatorState) add(a, u float64, window int, auto bool) {
	if math.IsNaN(a) || math.IsNaN(u) || math.IsInf(a, 0) || math.IsInf(u, 0) {
		return
	}
	e.K++
	alpha := max(1/float64(e.K), 1/float64(window))
	e.A += alpha * (a - e.A)
	e.U += alpha * (u - e.U)
	if !auto || e.K < window {
		return
	}
	r := e.ratio()
	if !(r > 0) || math.IsInf(r, 0) {
		return // no estimate yet (no gradient seen)
	}
	if e.K == window {
		e.Fresh = r
	}
	if !(r < 1) {
		e.Fallback = true
	}
	if e.Fallback {
		// Uniform draws until a refresh: each iteration loses 1 − Fresh
		// of a step against the fresh sampler; and since the window that
		// judged the sampler no better than uniform may have been
		// unlucky (Fresh ≥ 1), a retry comes due after at most
		// fallbackRetry × the refresh cost.
		e.Excess += max(1-e.Fresh, 1.0/fallbackRetry)
		return
	}
	if e.K > window {
		e.Excess = max(0, e.Excess+1-e.Fresh/r)
	}
}

// fallbackRetry is how many refresh costs of uniform draws the automatic
// fallback waits before it tries a refresh again.
const fallbackRetry = 10

// due says whether a refresh is due at cost (in iterations).
func (e *EstimatorState) due(cost float64, window int) bool {
	return e.K > window && e.Excess >= cost
}

// DefaultRehashCost is the default Config.RehashCost in iterations: for a
// blocking rehash, the work model of DefaultRehashLag on all workers (the
// steps stop while it runs); for a background one, a tenth of its lag (the
// steps go on; what it costs is the cores' shared memory bandwidth and
// caches).
func DefaultRehashCost(n, batch, workers int, background bool, lag int) float64 {
	if background {
		return 0.1 * float64(lag)
	}
	return float64(DefaultRehashLag(n, batch, workers))
}

// rehashCost is this run's refresh cost in iterations.
func (t *Trainer) rehashCost() float64 {
	if t.cfg.RehashCost > 0 {
		return t.cfg.RehashCost
	}
	return DefaultRehashCost(t.n, t.cfg.Batch, t.cfg.Workers, t.cfg.Background, t.lag)
}

// estWindow is the estimator's averaging window in iterations: half an
// epoch, within [50, 500] (heavy-tailed weights need many draws; the
// sampler drifts over epochs).
func (t *Trainer) estWindow() int {
	return min(500, max(50, t.n/t.cfg.Batch/2))
}

// updateEstimate adds the iteration just stepped (draws t.idx, weights t.w)
// to the estimator. It needs the host stepper's backward pass of the
// minibatch, which keep-stepping overwrites; without it nothing is added.
func (t *Trainer) updateEstimate() {
	if !t.TrackEstimate && !t.cfg.RehashAuto || t.Stepper != nil || t.cfg.KeepStepping > 0 || t.cfg.Sampler == SamplerUpperBound || t.cfg.StepSize != "" && t.cfg.StepSize != StepFixed {
		return
	}
	B := len(t.idx)
	t.g2 = resize(t.g2, B)
	t.host.mb.GradSqNorms(t.host.be, t.g2)
	var a, u float64
	for b, w := range t.w {
		// The deltas were scaled by float32(w/B) (minibatchGrad).
		s := float64(float32(w / float64(B)))
		if s == 0 {
			continue
		}
		g2 := t.g2[b] / (s * s)
		a += w * w * g2
		u += w * g2
	}
	t.est.add(a/float64(B), u/float64(B), t.estWindow(), t.cfg.RehashAuto)
}

func resize[T any](v []T, n int) []T {
	if cap(v) < n {
		return make([]T, n)
	}
	return v[:n]
}
