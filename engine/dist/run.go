package dist

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

func nowSeconds() float64 { return float64(time.Now().UnixNano()) * 1e-9 }

// Options tunes a distributed run.
type Options struct {
	// CheckEvery, when positive, compares a hash of the parameters across
	// the ranks every CheckEvery steps (a debug mode: they must be
	// identical) and fails the run, naming the ranks, when they differ.
	CheckEvery int
}

// Run is one rank's part of a distributed training run: an engine.Trainer
// over the rank's shard with the distributed Stepper, and a Recorder that
// reduces every evaluation over the ranks.
type Run struct {
	Comm    Comm
	Layout  Layout
	Trainer *engine.Trainer
	Stepper *Stepper
	// Recorder, when set, receives the reduced evaluations and the
	// iterations (set it before Train; on every rank, or only on the one
	// that reports).
	Recorder engine.Recorder
	// Config is the rank's configuration: the global one with Batch = m_r,
	// Seed = RankSeed(seed, r) and the rehash period fixed globally.
	Config engine.Config

	opt    Options
	evals  []engine.Eval
	err    error // a failed collective or parameter check inside the recorder
	cancel context.CancelCauseFunc
}

// LocalConfig is rank r's configuration of a run of cfg over layout l.
func LocalConfig(cfg engine.Config, l Layout, r int) engine.Config {
	c := cfg
	c.Batch = l.Batch[r]
	c.Seed = RankSeed(cfg.Seed, r)
	if c.RehashEvery == 0 {
		// Every rank rehashes at the same iterations, every E epochs
		// of the global set.
		c.RehashEvery = max(1, int(math.Round(cfg.RehashEpochs*float64(l.N())/float64(l.B()))))
	}
	if c.EvalEvery == 0 {
		c.EvalEvery = max(1, cfg.Iters/20)
	}
	return c
}

// Unsupported returns an error naming the first setting of cfg that a
// distributed run cannot honour: a background rehash or an automatic
// refresh would switch the ranks' samplers at iterations decided by each
// rank's own estimate. (Momentum, clipping, keep-stepping and the
// Gauss–Newton step are supported; the stepper refuses the Newton step.)
func Unsupported(cfg engine.Config) error {
	switch {
	case cfg.Background:
		return errors.New("engine.Config.Background is not supported in a distributed run (the ranks would switch their samplers at different iterations)")
	case cfg.RehashAuto:
		return errors.New("engine.Config.RehashAuto is not supported in a distributed run (each rank's estimate would refresh at its own iterations): rehash periodically")
	}
	return nil
}

// NewRun prepares rank c.Rank()'s part of a run of cfg (cfg.Batch is the
// global minibatch B) on model m (initialized identically on every rank),
// over its training shard and test shard (nil for none). It is collective.
func NewRun(c Comm, be kernels.Backend, m *nn.MLP, shard, test *data.Dataset, cfg engine.Config, file string, opt Options) (*Run, error) {
	nTest := 0
	if test != nil {
		nTest = test.N
	}
	l, err := GatherLayout(c, shard.N, nTest, cfg.Batch, file)
	if err != nil {
		return nil, err
	}
	r := c.Rank()
	lc := LocalConfig(cfg, l, r)
	err = Unsupported(cfg)
	if err == nil && lc.Batch > shard.N {
		err = fmt.Errorf("draws %d points per step but holds %d training rows", lc.Batch, shard.N)
	}
	var tr *engine.Trainer
	if err == nil {
		tr, err = engine.NewTrainer(be, m, shard, test, lc)
	}
	if err := Agree(c, err); err != nil {
		return nil, err
	}
	run := &Run{Comm: c, Layout: l, Trainer: tr, Config: lc, opt: opt}
	run.Stepper = NewStepper(c, be, tr, l)
	tr.Stepper = run.Stepper
	tr.Recorder = engine.Observers{OnEval: run.recordEval, OnIter: run.recordIter, OnRehashProgress: run.rehashProgress}
	return run, nil
}

func (run *Run) rehashProgress(done, total int) {
	if run.Recorder != nil {
		run.Recorder.RecordRehash(done, total)
	}
}

// recordEval reduces e over the ranks (collective: every rank evaluates at
// the same iterations).
func (run *Run) recordEval(e engine.Eval) {
	g, err := ReduceEval(run.Comm, run.Layout, e)
	if err != nil && run.err == nil {
		run.err = err
	}
	if k := len(run.evals); k > 0 && run.evals[k-1].Iter == g.Iter {
		run.evals = run.evals[:k-1]
	}
	run.evals = append(run.evals, g)
	if run.Recorder != nil {
		run.Recorder.RecordEval(g)
	}
}

func (run *Run) recordIter(r engine.IterRecord) {
	if k := run.opt.CheckEvery; k > 0 && (r.Iter+1)%k == 0 && run.err == nil {
		// Every rank gets the same answer, so every rank stops at the
		// start of the next iteration.
		if run.err = CheckParams(run.Comm, run.Trainer.Model().Params, r.Iter+1); run.err != nil && run.cancel != nil {
			run.cancel(run.err)
		}
	}
	if run.Recorder != nil {
		run.Recorder.RecordIter(r)
	}
}

// Train trains; the result's evaluations are the reduced ones, the same on
// every rank. A failed collective or parameter check stops it at the next
// evaluation or the end.
func (run *Run) Train(ctx context.Context) (*engine.Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	run.cancel = cancel
	defer cancel(nil)
	res, err := run.Trainer.Train(ctx)
	if run.err != nil {
		return res, run.err
	}
	if res != nil {
		res.Evals = append([]engine.Eval(nil), run.evals...)
		if err == nil && len(res.Evals) > 0 {
			res.Final = res.Evals[len(res.Evals)-1]
		}
	}
	return res, err
}

// Blame is called by every rank when the run stopped with an error every
// rank shares (a divergence of the global loss or parameters); it is
// collective. When the gradient share of some rank was not finite before
// the all-reduce, the divergence started on that rank's data: the error
// returned names the lowest rank whose share went non-finite at the
// earliest such step, and its file (and how many others did at that step),
// the same on every rank; otherwise err is returned as it is.
func (run *Run) Blame(err error) error {
	// The earliest bad step over the ranks: the ranks whose share went
	// non-finite later only inherited the divergence.
	first := []float64{math.Inf(-1)}
	if k := run.Stepper.badStep; k > 0 {
		first[0] = -float64(k)
	}
	if rerr := run.Comm.AllreduceMax64(first); rerr != nil {
		return errors.Join(err, rerr)
	}
	var local error
	if k := run.Stepper.badStep; k > 0 && -float64(k) == first[0] {
		name := "its shard"
		if f := run.Layout.file(run.Comm.Rank()); f != "" {
			name = f[2 : len(f)-1]
		}
		local = fmt.Errorf("%s: its share of the minibatch gradient was not finite at step %d", name, k)
	}
	a := Agree(run.Comm, local)
	if a == nil {
		return err
	}
	return fmt.Errorf("%w; %v", a, err)
}

// Evals returns the reduced evaluation rows so far.
func (run *Run) Evals() []engine.Eval { return append([]engine.Eval(nil), run.evals...) }

// ReduceEval combines the ranks' evaluations (collective): the losses,
// accuracies and cross-entropies are row-weighted means over the shards
// (the global means), the non-empty buckets the sum, the times and the
// rehash count the slowest rank's. The sampling diagnostics (second-moment
// ratio, ideal ratio, KL, ESS, largest weight) are already the global
// estimator's: the trainer computed them from sums over every rank
// (engine.Parallel). With one rank e is returned as it is.
func ReduceEval(c Comm, l Layout, e engine.Eval) (engine.Eval, error) {
	if c.Size() == 1 {
		return e, nil
	}
	r := c.Rank()
	n, nt := float64(l.Train[r]), float64(l.Test[r])
	N, NT := float64(l.N()), float64(l.NTest())
	// A rank without test rows reports NaN test values: it adds 0.
	tw := func(v float64) float64 {
		if nt == 0 {
			return 0
		}
		return v * nt
	}
	sums := []float64{e.TrainLoss * n, tw(e.TestLoss), float64(e.NonEmpty),
		e.TrainAccuracy * n, e.TrainXent * n, tw(e.TestAccuracy), tw(e.TestXent)}
	if err := c.AllreduceSum64(sums); err != nil {
		return e, err
	}
	maxes := []float64{e.TrainSeconds, e.SampleSeconds, e.GradSeconds, e.RehashSeconds, float64(e.Rehashes)}
	if err := c.AllreduceMax64(maxes); err != nil {
		return e, err
	}
	g := e
	g.TrainLoss, g.TrainAccuracy, g.TrainXent = sums[0]/N, sums[3]/N, sums[4]/N
	g.TestLoss = math.NaN()
	if NT > 0 {
		g.TestLoss, g.TestAccuracy, g.TestXent = sums[1]/NT, sums[5]/NT, sums[6]/NT
	}
	g.NonEmpty = int(sums[2])
	g.TrainSeconds, g.SampleSeconds, g.GradSeconds, g.RehashSeconds = maxes[0], maxes[1], maxes[2], maxes[3]
	g.Rehashes = int(maxes[4])
	return g, nil
}

// ParamHash is a 64-bit FNV-1a hash of the parameters' bits.
func ParamHash(p []float32) uint64 {
	h := fnv.New64a()
	buf := make([]byte, 0, 4096)
	for _, v := range p {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	h.Write(buf)
	return h.Sum64()
}

// CheckParams compares the parameter hashes of every rank (collective) and
// returns an error naming the ranks that differ from rank 0.
func CheckParams(c Comm, params []float32, step int) error {
	all, err := c.Allgatherv(binary.LittleEndian.AppendUint64(nil, ParamHash(params)))
	if err != nil {
		return err
	}
	h0 := binary.LittleEndian.Uint64(all[0])
	var bad []int
	for r, b := range all {
		if binary.LittleEndian.Uint64(b) != h0 {
			bad = append(bad, r)
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("after step %d the parameters of rank(s) %v differ from rank 0's (hash %016x): the ranks diverged", step, bad, h0)
	}
	return nil
}

// RankState is what differs between the ranks' training states: the
// sampling RNG, the upper-bound sampler's τ, the ntk-drift sampler's
// fitted λ, the lsh sampler's cached query and the importance weights
// accumulated since the last evaluation (and the largest seen), all of the
// rank's own sampler and draws.
type RankState struct {
	RNG           []byte              `json:"rng"`
	Tau           float64             `json:"tau"`
	DriftLambda   *float64            `json:"drift_lambda,omitempty"`
	Weights       *engine.WeightStats `json:"weights,omitempty"`
	MaxWeightSeen float64             `json:"max_weight_seen,omitempty"`
	// The lsh sampler's cached query (--query-every) over this shard.
	QueryCodes  []uint32 `json:"query_codes,omitempty"`
	QueryServed int      `json:"query_served,omitempty"`
}

// State captures the run's state at the start of iteration
// Trainer.Iter() (collective): the trainer's state with this stepper's
// velocity and the reduced evaluation rows, and every rank's RankState (to
// be stored with the checkpoint that rank 0 writes).
func (run *Run) State() (engine.State, []RankState, error) {
	st := run.Trainer.State()
	st.Evals = nil
	for _, e := range run.evals {
		if e.Iter < st.Iter || st.Iter >= run.Config.Iters {
			st.Evals = append(st.Evals, e)
		}
	}
	js, err := json.Marshal(RankState{RNG: st.RNG, Tau: st.Tau, DriftLambda: st.DriftLambda, Weights: st.Weights, MaxWeightSeen: st.MaxWeightSeen,
		QueryCodes: st.QueryCodes, QueryServed: st.QueryServed})
	if err != nil {
		return st, nil, err
	}
	all, err := run.Comm.Allgatherv(js)
	if err != nil {
		return st, nil, err
	}
	ranks := make([]RankState, len(all))
	for r, b := range all {
		if err := json.Unmarshal(b, &ranks[r]); err != nil {
			return st, nil, err
		}
	}
	return st, ranks, nil
}

// Restore puts the run in state st, written with ranks (one RankState per
// rank of the run that wrote it); a state of another number of ranks is
// refused (the shards and the RNG streams would not match).
func (run *Run) Restore(st engine.State, ranks []RankState) error {
	R := run.Comm.Size()
	if len(ranks) != R {
		return fmt.Errorf("the checkpoint was written by a run of %d rank(s), this job has %d: resume it with mpirun -np %d (the shards and the ranks' random streams depend on the number of ranks)", len(ranks), R, len(ranks))
	}
	r := run.Comm.Rank()
	rs := ranks[r]
	st.RNG, st.Tau, st.DriftLambda, st.Weights, st.MaxWeightSeen = rs.RNG, rs.Tau, rs.DriftLambda, rs.Weights, rs.MaxWeightSeen
	st.QueryCodes, st.QueryServed = rs.QueryCodes, rs.QueryServed
	if err := run.Trainer.Restore(st); err != nil {
		return err
	}
	run.evals = append([]engine.Eval(nil), st.Evals...)
	return nil
}
