package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strings"

	"github.com/ntklsh/ntklsh/engine/nn"
)

// Limits on flags that size allocations; beyond them a run is a mistake,
// not a bigger job.
const (
	maxRehashBatch = 1 << 16 // examples per batch of a full pass
	maxWorkers     = 4096
	maxSynValues   = 1 << 28 // syn-n × max(syn-d, syn-out): 1 GiB of float32
)

func finiteNonNeg(v float64) bool { return v >= 0 && !math.IsInf(v, 0) }

// checkTrainFlags checks the flags that engine.Config.Validate and the data
// loaders do not see, naming the flag in every message.
func checkTrainFlags(f *trainFlags, rehashBatch, workers int) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if !finiteNonNeg(f.epochs) || f.epochs > 1e6 {
		bad("--epochs %g must be in [0, 1e6] (0: train for --iters iterations)", f.epochs)
	}
	if !finiteNonNeg(f.targetLoss) {
		bad("--target-loss %g must be a finite value ≥ 0 (0: derived from the compared samplers)", f.targetLoss)
	}
	if f.targets < 1 || f.targets > nn.MaxWidth {
		bad("--targets %d outside [1, %d]", f.targets, nn.MaxWidth)
	}
	if f.oneHot < 0 || f.oneHot == 1 || f.oneHot > nn.MaxWidth {
		bad("--onehot %d: want 0 (regression) or a number of classes in [2, %d]", f.oneHot, nn.MaxWidth)
	}
	if f.oneHot > 0 && f.dataPath == "" {
		bad("--onehot %d needs --data (a column of integer class labels): the built-in set is a regression teacher, and with --loss xent the built-in class teacher (--syn-out classes)", f.oneHot)
	} else if f.oneHot > 0 && f.targets != 1 {
		bad("--onehot needs a single label column (--targets 1, got %d)", f.targets)
	} else if f.xent && f.targets != 1 {
		bad("--loss xent needs a single label column (--targets 1, got %d)", f.targets)
	}
	if f.categorical != "refuse" && f.categorical != "auto" {
		bad("--categorical %q: want refuse or auto", f.categorical)
	}
	if _, err := parseFeatures(f.features); err != nil {
		errs = append(errs, err)
	}
	if strings.TrimSpace(f.hidden) == "" {
		bad("--hidden is empty: give hidden widths (e.g. 32 or 64,64), or 0 for a linear model")
	}
	if rehashBatch < 0 || rehashBatch > maxRehashBatch {
		bad("--rehash-batch %d outside [0, %d]", rehashBatch, maxRehashBatch)
	}
	if workers < 0 || workers > maxWorkers {
		bad("--workers %d outside [0, %d] (0: GOMAXPROCS)", workers, maxWorkers)
	}
	if f.dataPath == "" {
		switch {
		case f.synN < 1:
			bad("--syn-n %d must be ≥ 1", f.synN)
		case f.synD < 1 || f.synD > nn.MaxWidth:
			bad("--syn-d %d outside [1, %d]", f.synD, nn.MaxWidth)
		case f.synOut < 1 || f.synOut > nn.MaxWidth:
			bad("--syn-out %d outside [1, %d]", f.synOut, nn.MaxWidth)
		case f.synN > maxSynValues/max(f.synD, f.synOut):
			bad("--syn-n %d × --syn-d %d is over %d values", f.synN, max(f.synD, f.synOut), maxSynValues)
		}
		if f.synHidden < 1 || f.synHidden > nn.MaxWidth {
			bad("--syn-hidden %d outside [1, %d]", f.synHidden, nn.MaxWidth)
		}
		if math.IsNaN(f.synTail) || math.IsInf(f.synTail, 0) || f.synTail > 0 && f.synTail < 1 {
			bad("--syn-tail %g: want ≤ 0 (Gaussian inputs) or a finite value ≥ 1", f.synTail)
		}
		if !finiteNonNeg(f.synNoise) {
			bad("--syn-noise %g must be a finite value ≥ 0", f.synNoise)
		}
	}
	return errors.Join(errs...)
}

// probeCheckpointDir makes sure checkpoints can be written to dir before any
// training time is spent: it creates the directory and writes and removes a
// file in it.
func probeCheckpointDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--checkpoint %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("--checkpoint %s: cannot write there: %w", dir, err)
	}
	name := f.Name()
	werr := f.Close()
	if err := os.Remove(name); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return fmt.Errorf("--checkpoint %s: %w", dir, werr)
	}
	return nil
}
