//go:build mpi

package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/checkpoint"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/dist"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/mpi"
)

// The flags of distributed training (build tag mpi).
var distFlagValues struct {
	mode       string
	checkEvery int
}

func init() {
	distFlags = func(fs *flag.FlagSet) {
		fs.StringVar(&distFlagValues.mode, "distributed", "", "mpi: run on every rank of an MPI job (mpirun -np R ntklsh train --distributed mpi ...); each rank trains on its shard of the training rows (a --data name with {rank} gives each rank its own file) and the gradients are all-reduced every step (docs/DISTRIBUTED.md)")
		fs.IntVar(&distFlagValues.checkEvery, "dist-check", 0, "distributed debug mode: compare a hash of the parameters across the ranks every N steps (0: off)")
	}
	distRun = func(o *trainOptions, stdout, stderr io.Writer) (bool, error) {
		switch distFlagValues.mode {
		case "":
			return false, nil
		case "mpi":
		default:
			return true, fmt.Errorf("--distributed %q: want mpi", distFlagValues.mode)
		}
		if distFlagValues.checkEvery < 0 {
			return true, fmt.Errorf("--dist-check %d must be ≥ 0", distFlagValues.checkEvery)
		}
		return true, runDistributed(o, stdout, stderr)
	}
}

// distLayoutFile is the shard layout and the ranks' own states, written by
// rank 0 next to the checkpoint.
const distLayoutFile = "distributed.json"

type distCheckpoint struct {
	Layout       dist.Layout      `json:"layout"`
	Ranks        []dist.RankState `json:"ranks"`
	Fingerprints []string         `json:"fingerprints"`
}

// runDistributed is the train command on one rank of an MPI job. Rank 0
// reports and writes the checkpoints; an error every rank shares (bad
// input on any rank, divergence) ends every rank with rank 0's one
// message; an error of one rank alone aborts the job (MPI_Abort) with the
// rank named, so that no rank waits forever in a collective.
func runDistributed(o *trainOptions, stdout, stderr io.Writer) error {
	if err := mpi.Init(); err != nil {
		return err
	}
	c := mpi.World()
	d := &distSession{trainOptions: o, c: c, stdout: stdout, stderr: stderr}
	err := d.run()
	var le *localError
	if errors.As(err, &le) {
		file := ""
		if d.file != "" {
			file = " (" + d.file + ")"
		}
		fmt.Fprintf(stderr, "ntklsh train: rank %d of %d%s: %v; aborting the job\n", c.Rank(), c.Size(), file, le.err)
		mpi.Abort(1)
	}
	if err != nil {
		// An error every rank shares: rank 0 reports it, and no rank
		// exits before it has (mpirun ends the job when the first
		// rank exits with an error).
		if c.Rank() == 0 {
			fmt.Fprintf(stderr, "ntklsh train: %s\n", strings.ReplaceAll(err.Error(), "\n", "; "))
		}
		mpi.Barrier()
		mpi.Finalize()
		os.Exit(exitCode(err))
	}
	return mpi.Finalize()
}

// distUnsupported names the first flag --distributed does not support.
// Momentum, clipping, keep-stepping and --step-size gn are supported: the
// distributed stepper wraps the host stepper, whose gradient and line
// search losses are summed over the ranks (engine.Parallel).
func distUnsupported(f trainFlags, cfg engine.Config) error {
	switch {
	case f.deviceStep.mode == engine.DeviceStepOn:
		return errors.New("--device-step is not supported with --distributed: the ranks step on the host (the gradient all-reduce sits in the host stepper; an NCCL all-reduce in the device stepper is not written yet, docs/DISTRIBUTED.md)")
	case cfg.StepSize == engine.StepNewton:
		return errors.New("--step-size newton is not supported with --distributed (its normal equations would have to be summed over the ranks): use --step-size gn or fixed")
	case cfg.Background:
		return errors.New("--background-rehash is not supported with --distributed (the ranks would switch their samplers at different iterations)")
	case cfg.RehashAuto:
		return errors.New("--rehash auto is not supported with --distributed: use --rehash periodic (every rank rehashes at the same iterations)")
	}
	return nil
}

// localError is an error of this rank alone (the others may be waiting
// in a collective).
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }

type distSession struct {
	*trainOptions
	c              dist.Comm
	stdout, stderr io.Writer
	rep            *reporter
	train, test    *data.Dataset
	norm           *data.Standardizer
	spec           dataSpec
	file           string
	mcfg           nn.Config
	fp             string
	logw           *metricsLog
}

func (d *distSession) run() error {
	r, R := d.c.Rank(), d.c.Size()
	w := d.stderr
	if r != 0 {
		w = io.Discard
	}
	d.rep = newReporter(w, d.f.quiet, d.f.logFormat == "json")
	err := d.load()
	if err := dist.Agree(d.c, err); err != nil {
		return err
	}
	if d.f.standardize && d.norm == nil {
		// Shard files: the statistics of the union of the shards.
		err = nil
		if d.norm, err = dist.FitStandardizer(d.c, d.train, !d.f.classifier()); err == nil {
			if err = d.norm.Apply(d.train); err == nil && d.test != nil {
				err = d.norm.Apply(d.test)
			}
		}
		if err := dist.Agree(d.c, err); err != nil {
			return err
		}
	}
	nb := []float64{float64(d.train.N)}
	if err := d.c.AllreduceSum64(nb); err != nil {
		return err
	}
	N := int(nb[0])
	cfg := &d.cfg
	if cfg.Batch > N {
		return fmt.Errorf("--batch %d is larger than the %d training points", cfg.Batch, N)
	}
	if cfg.Batch < R {
		return fmt.Errorf("--batch %d is smaller than the %d ranks: every rank draws at least one point per step", cfg.Batch, R)
	}
	if d.f.epochs > 0 {
		cfg.Iters = max(1, int(math.Round(d.f.epochs*float64(N)/float64(cfg.Batch))))
	}
	if err := distUnsupported(d.f, *cfg); err != nil {
		return err
	}
	if err := validateSamplers(*cfg, d.samplers); err != nil {
		return err
	}
	d.mcfg = nn.Config{In: d.train.D, Out: d.train.O, Hidden: d.hidden, Activation: d.act, Seed: d.f.seed}
	if err := d.mcfg.Validate(); err != nil {
		return err
	}
	if d.f.ckptDir != "" {
		all, err := d.c.Allgatherv([]byte(fingerprint(d.train)))
		if err != nil {
			return err
		}
		h := sha256.New()
		for _, b := range all {
			h.Write(b)
		}
		d.fp = "dist:" + hex.EncodeToString(h.Sum(nil))[:32]
	}
	if d.f.logPath != "" && r == 0 {
		var err error
		if d.logw, err = newMetricsLog(d.f.logPath); err != nil {
			return err
		}
		defer d.logw.Close()
	}
	probe, _ := nn.New(d.mcfg)
	d.rep.event("start", map[string]any{"ranks": R, "train_points": N, "model": probe.String(), "backend": d.be.Name()},
		fmt.Sprintf("distributed: %d ranks (MPI); %d training points; model %s; backend %s; %d iterations of global batch %d\n",
			R, N, probe, d.be.Name(), cfg.Iters, cfg.Batch))
	var rows []summaryRow
	for _, name := range d.samplers {
		res, err := d.runSampler(name)
		if err != nil {
			if len(rows) > 0 && r == 0 {
				printSummary(d.stdout, rows, d.f.targetLoss)
			}
			return err
		}
		rows = append(rows, summaryRow{res: res})
	}
	if r == 0 {
		printSummary(d.stdout, rows, d.f.targetLoss)
		if d.f.plotPath != "" {
			if err := plotRuns(d.f.plotPath, rows, d.f.targetLoss); err != nil {
				return err
			}
		}
	}
	return nil
}

// load reads this rank's shard: with {rank} in --data (and --test) the
// rank's own file, split and standardized later over all shards; else the
// shared file, read and split exactly as a single process does, and the
// rank's range of its training (and test) rows.
func (d *distSession) load() error {
	r, R := d.c.Rank(), d.c.Size()
	f := d.f
	if strings.Contains(f.dataPath, "{rank}") {
		f.dataPath = strings.ReplaceAll(f.dataPath, "{rank}", strconv.Itoa(r))
		f.testPath = strings.ReplaceAll(f.testPath, "{rank}", strconv.Itoa(r))
		f.standardize = false // fitted over every shard by the caller
		d.file = f.dataPath
		train, test, _, spec, err := loadData(f, d.rep)
		if err != nil {
			if !strings.Contains(err.Error(), f.dataPath) {
				err = fmt.Errorf("%s: %w", f.dataPath, err)
			}
			return err
		}
		d.train, d.test, d.spec = train, test, spec
		return nil
	}
	train, test, norm, spec, err := loadData(f, d.rep)
	if err != nil {
		return err
	}
	lo, hi := dist.Range(train.N, r, R)
	name := f.dataPath
	if name == "" {
		name = "synthetic"
	}
	d.file = fmt.Sprintf("%s, training rows [%d, %d)", name, lo, hi)
	d.train, d.spec = dist.Rows(train, lo, hi), spec
	if test != nil {
		tlo, thi := dist.Range(test.N, r, R)
		d.test = dist.Rows(test, tlo, thi)
	}
	d.norm = norm
	return nil
}

// runSampler trains with one sampler on every rank.
func (d *distSession) runSampler(name string) (*engine.Result, error) {
	r := d.c.Rank()
	cfg := samplerConfig(d.cfg, name)
	m, err := nn.New(d.mcfg)
	if err != nil {
		return nil, err
	}
	run, err := dist.NewRun(d.c, d.be, m, d.train, d.test, cfg, d.file, dist.Options{CheckEvery: distFlagValues.checkEvery})
	if err != nil {
		return nil, err
	}
	rep, logw := d.rep, d.logw
	if r == 0 {
		rep.event("layout", map[string]any{"layout": run.Layout}, "layout: "+run.Layout.String()+"\n")
		run.Recorder = engine.Observers{OnEval: func(e engine.Eval) {
			rep.eval(name, e)
			if logw != nil {
				logw.eval(name, e)
			}
		}, OnIter: func(ir engine.IterRecord) {
			rep.iter(ir.Iter + 1)
			rep.step(ir.StepStats)
			if logw != nil {
				logw.iter(name, ir)
			}
		}, OnRehashProgress: rep.rehash}
	}
	f := d.f
	save := func(finished bool) error {
		st, ranks, err := run.State()
		if err != nil {
			return err
		}
		if r == 0 {
			err = d.writeCheckpoint(cfg, st, ranks, run.Layout, finished)
		}
		return dist.Agree(d.c, err)
	}
	if f.ckptDir != "" {
		run.Trainer.CheckpointEvery = f.ckptEvery
		run.Trainer.OnCheckpoint = func(engine.State) error { return save(false) }
	}
	if f.resumeDir != "" {
		err := d.resume(run, cfg)
		if err := dist.Agree(d.c, err); err != nil {
			return nil, err
		}
		rep.event("resume", map[string]any{"dir": f.resumeDir, "iter": run.Trainer.Iter()}, fmt.Sprintf("resuming %s at iteration %d\n", f.resumeDir, run.Trainer.Iter()))
	}
	rep.beginRun(cfg.String(), cfg.Iters, cfg.StepSize != "" && cfg.StepSize != engine.StepFixed)
	res, err := run.Train(context.Background())
	rep.endRun()
	if st := run.Stepper; st.Steps > 0 {
		rep.event("allreduce", map[string]any{"steps": st.Steps, "seconds": st.AllreduceSeconds, "params": m.NumParams()},
			fmt.Sprintf("rank 0: %d steps, gradient all-reduce %.4g ms per step (P = %d), %.4g s in all\n", st.Steps, 1e3*st.AllreduceSeconds/float64(st.Steps), m.NumParams(), st.AllreduceSeconds))
	}
	if err != nil {
		var de *engine.DivergedError
		if errors.As(err, &de) && de.Err != nil {
			// A sampler found the divergence on this rank only.
			return nil, &localError{err}
		}
		if errors.As(err, &de) || strings.Contains(err.Error(), "the ranks diverged") {
			// Every rank saw it (the loss and parameters are global):
			// name the rank whose gradient share went non-finite first.
			return nil, run.Blame(err)
		}
		return nil, &localError{err}
	}
	if f.ckptDir != "" {
		if err := save(true); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// writeCheckpoint writes the checkpoint (rank 0) and, next to it, the shard
// layout and every rank's sampling state.
func (d *distSession) writeCheckpoint(cfg engine.Config, st engine.State, ranks []dist.RankState, l dist.Layout, finished bool) error {
	ck, err := buildCheckpoint(d.mcfg, cfg, st, d.spec, d.norm, d.fp, finished, d.be.Name())
	if err != nil {
		return err
	}
	if err := checkpoint.Write(d.f.ckptDir, ck); err != nil {
		return err
	}
	b, err := json.MarshalIndent(distCheckpoint{Layout: l, Ranks: ranks}, "", " ")
	if err != nil {
		return err
	}
	path := filepath.Join(d.f.ckptDir, distLayoutFile)
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return err
	}
	d.rep.event("checkpoint", map[string]any{"dir": d.f.ckptDir, "iter": st.Iter}, "")
	return nil
}

// resume restores the run from --resume: the same number of ranks, the
// same shards.
func (d *distSession) resume(run *dist.Run, cfg engine.Config) error {
	dir := d.f.resumeDir
	b, err := os.ReadFile(filepath.Join(dir, distLayoutFile))
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s holds no %s: it was not written by a distributed run (resume it without --distributed)", dir, distLayoutFile)
	}
	if err != nil {
		return err
	}
	var dc distCheckpoint
	if err := json.Unmarshal(b, &dc); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(dir, distLayoutFile), err)
	}
	if dc.Layout.Ranks != d.c.Size() {
		return fmt.Errorf("%s was written by a run of %d ranks (%s); this job has %d: resume it with mpirun -np %d",
			dir, dc.Layout.Ranks, dc.Layout.String(), d.c.Size(), dc.Layout.Ranks)
	}
	for k, n := range dc.Layout.Train {
		if n != run.Layout.Train[k] {
			return fmt.Errorf("%s was written with rank %d holding %d training rows; it holds %d now", dir, k, n, run.Layout.Train[k])
		}
	}
	st, _, err := resumeState(dir, d.mcfg, cfg, d.fp)
	if err != nil {
		return err
	}
	return run.Restore(st, dc.Ranks)
}
