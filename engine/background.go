package engine

import (
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// Background rehashes (Config.Background) take the linearization off the
// critical path. At a rehash iteration t the loop copies the parameters into
// a snapshot owned by a job, and a goroutine linearizes at that snapshot
// into a Linearization the sampler does not hold (double buffering: the
// sampler keeps drawing from the old one). At iteration t + lag, on the
// loop goroutine, the loop waits for the job when it is not done yet and
// switches the new linearization in (Sampler.Refit); the old one becomes
// the buffer of the next job. The lag is fixed before training (Config or
// DefaultRehashLag, a function of the sizes only), so the iterations at
// which linearizations change, and hence every draw and step, do not depend
// on timing, and a checkpoint taken while a job is in flight (its start and
// snapshot are in State) resumes bit for bit by restarting it. Until the
// first linearization is in, draws are uniform with weight 1.
//
// The job runs RehashWorkers goroutines whose GEMMs are single-threaded;
// the steps' GEMMs use the remaining GOMAXPROCS − RehashWorkers cores (at
// least one), so the two never ask for more cores than there are.

// bgJob is one background linearization.
type bgJob struct {
	start  int       // iteration whose parameters it linearizes at
	params []float32 // snapshot of those parameters, owned by the job
	done   chan struct{}
	lin    *ntk.Linearization
	err    error
	secs   float64 // seconds the job ran
}

// DefaultRehashLag is the lag, in iterations, of background rehashes when
// Config.RehashLag is 0: a work model of how many SGD steps of batch B fit
// in one linearization of N points on workers cores, 1.5·N/(B·workers).
// A rehash does a forward pass, a backward pass and the per-example norms
// per point on batches of RehashBatch; a step a forward, a backward and the
// weight-gradient product per drawn point on one core. Measured
// (docs/WALLCLOCK.md, 16-1024-1, N = 80 000, 2 cores): a background rehash
// on one core while the steps run on the other took 1.9 s, 2 500–3 600
// steps, that is 1.0–1.45·N/B; a late job makes the loop wait, an early one
// leaves the sampler staler than it need be.
func DefaultRehashLag(n, batch, workers int) int {
	workers = max(1, workers)
	return max(1, int(math.Ceil(1.5*float64(n)/(float64(batch)*float64(workers)))))
}

// rehashWorkers is the number of goroutines of a background rehash.
func rehashWorkers(cfg Config) int {
	if cfg.RehashWorkers > 0 {
		return cfg.RehashWorkers
	}
	return max(1, runtime.GOMAXPROCS(0)-1)
}

// setupBackground prepares the background linearizer and the backend of
// the steps (called by NewTrainer when cfg.Background).
func (t *Trainer) setupBackground(be kernels.Backend) kernels.Backend {
	w := rehashWorkers(t.cfg)
	t.lag = t.cfg.RehashLag
	if t.lag == 0 {
		t.lag = DefaultRehashLag(t.n, t.cfg.Batch, w)
	}
	t.bgCPU = &ntk.CPU{Backend: kernels.WithMaxThreads(be, 1), Model: t.m, X: t.x, Y: t.y, N: t.n,
		Options: ntk.RehashOptions{Batch: t.cfg.RehashBatch, Workers: w, MultiOutput: t.cfg.MultiOutputMode(),
			// Between batches a worker waits while the loop holds the
			// gate (pauseBackground).
			Progress: func(int, int) { t.gate.RLock(); t.gate.RUnlock() }}}
	return kernels.WithMaxThreads(be, max(1, runtime.GOMAXPROCS(0)-w))
}

// Lag returns the lag of background rehashes in iterations (0 when they
// are off).
func (t *Trainer) Lag() int { return t.lag }

// startBackground starts a job linearizing at params (copied) for
// iteration it. A job whose switch, at it + lag, would fall at or after the
// run's last iteration is only recorded (its snapshot, no work): the state
// carries it, so that a run extended from a checkpoint (Restore) starts it
// exactly where an uninterrupted longer run would have.
func (t *Trainer) startBackground(it int, params []float32) {
	j := &bgJob{start: it, done: make(chan struct{})}
	j.params = append(j.params, params...)
	t.pending = j
	if it+t.lag >= t.cfg.Iters {
		close(j.done)
		return
	}
	j.lin, t.spare = t.spare, nil
	go func() {
		defer close(j.done)
		t0 := time.Now()
		j.lin, j.err = t.bgCPU.Linearize(j.params, t.hasher, j.lin)
		j.secs = time.Since(t0).Seconds()
	}()
}

// pauseBackground stops the job in flight at its workers' next batch
// boundary until the returned function is called: evaluations, which
// training seconds leave out, give it no free time.
func (t *Trainer) pauseBackground() (resume func()) {
	if t.pending == nil {
		return func() {}
	}
	t.gate.Lock()
	return t.gate.Unlock
}

// waitBackground waits for the pending job, if any, and returns it (nil
// when there is none); it stays pending.
func (t *Trainer) waitBackground() *bgJob {
	j := t.pending
	if j != nil {
		<-j.done
	}
	return j
}

// switchBackground waits for the pending job and switches its
// linearization in; the old one becomes the next job's buffer.
func (t *Trainer) switchBackground() error {
	j := t.waitBackground()
	t.pending = nil
	t.tBgRehash += time.Duration(j.secs * float64(time.Second))
	if j.err != nil {
		return j.err
	}
	t.spare, t.lin = t.lin, j.lin
	return t.samp.Refit(t.lin)
}

// dropBackground waits for a pending job and forgets it.
func (t *Trainer) dropBackground() {
	if j := t.waitBackground(); j != nil {
		t.pending = nil
		if j.err == nil && t.spare == nil {
			t.spare = j.lin
		}
	}
}

// backgroundPoint runs the background rehash schedule at the start of
// iteration it: the switch of a job started lag iterations ago, then the
// start of a new one when one is due. sync brings the host parameters up to
// date. A job whose switch would fall at or after the last iteration is
// recorded, not run (startBackground).
func (t *Trainer) backgroundPoint(it, period int, sync func() error) error {
	missed := false
	if j := t.pending; j != nil && it == j.start+t.lag {
		t0 := time.Now()
		if err := t.switchBackground(); err != nil {
			return fmt.Errorf("background rehash started at iteration %d: %w", j.start, err)
		}
		t.tRehash += time.Since(t0)
		t.rehashes++
		t.est.reset()
		// A periodic start that fell while the job ran is made up now.
		missed = !t.cfg.RehashAuto && it/period > j.start/period
	}
	if t.pending != nil {
		return nil
	}
	due := missed || it%period == 0
	if t.cfg.RehashAuto {
		due = t.lin == nil || t.est.due(t.rehashCost(), t.estWindow())
	}
	if !due {
		return nil
	}
	if err := sync(); err != nil {
		return err
	}
	t0 := time.Now()
	t.startBackground(it, t.m.Params)
	t.tRehash += time.Since(t0)
	return nil
}
