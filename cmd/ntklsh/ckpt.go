package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/checkpoint"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// dataSpec records how the training data was read, so that predict and eval
// read new files the same way.
type dataSpec struct {
	Source   string    `json:"source"` // file path, or "synthetic"
	Format   string    `json:"format,omitempty"`
	Target   int       `json:"target"`
	Targets  int       `json:"targets"`
	Header   string    `json:"header"`
	OneHot   int       `json:"onehot,omitempty"`
	Classes  []float64 `json:"classes,omitempty"`
	Features int       `json:"features"`
	Outputs  int       `json:"outputs"`
	Names    []string  `json:"feature_names,omitempty"`
	// TargetNames are the target column names of a CSV header
	// ("<column>=<class>" for one-hot targets); TargetName is the header
	// name of the (first) target column. Target is its 0-based index.
	TargetNames []string `json:"target_names,omitempty"`
	TargetName  string   `json:"target_name,omitempty"`
	MaxRows     int      `json:"max_rows,omitempty"`
	// Split is the --test-frac split of the training run (nil when none).
	Split *splitSpec `json:"split,omitempty"`
}

// trainingMeta is the training part of a checkpoint's metadata.
type trainingMeta struct {
	Config          json.RawMessage `json:"config"`
	State           engine.State    `json:"state"`
	Seed            uint64          `json:"model_seed"`
	DataFingerprint string          `json:"data_fingerprint"`
	Finished        bool            `json:"finished"`
	// Backend is the kernel backend the training steps ran on: another
	// one sums in another order, so a resumed run on it is not bit-exact.
	Backend string `json:"backend,omitempty"`
}

// resumeInfo is what a resume tells the user about the checkpoint.
type resumeInfo struct {
	Iters    int    // the iterations of the run that wrote it
	Finished bool   // whether that run had finished
	Backend  string // its kernel backend ("" in older checkpoints)
}

// fingerprint hashes the (standardized) training data, so that a resume on
// different data is refused.
func fingerprint(d *data.Dataset) string {
	h := sha256.New()
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(d.N))
	h.Write(b[:])
	buf := make([]byte, 0, 1<<14)
	for _, v := range [][]float32{d.X, d.Y} {
		for _, x := range v {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	h.Write(buf)
	return hex.EncodeToString(h.Sum(nil))[:32]
}

func modelSpec(c nn.Config) checkpoint.Model {
	m := checkpoint.Model{In: c.In, Out: c.Out, Hidden: append([]int{}, c.Hidden...), Activation: c.Activation.String()}
	if c.Loss != nn.MSE {
		m.Loss = c.Loss.String()
	}
	return m
}

func describeModel(m checkpoint.Model) string {
	parts := []string{fmt.Sprint(m.In)}
	for _, h := range m.Hidden {
		parts = append(parts, fmt.Sprint(h))
	}
	parts = append(parts, fmt.Sprint(m.Out))
	s := strings.Join(parts, "-") + " (" + m.Activation + ")"
	if m.Loss != "" {
		s += " loss " + m.Loss
	}
	return s
}

func normalization(st *data.Standardizer) *checkpoint.Normalization {
	if st == nil {
		return nil
	}
	return &checkpoint.Normalization{XMean: st.XMean, XStd: st.XStd, YMean: st.YMean, YStd: st.YStd}
}

// buildCheckpoint assembles a checkpoint from a trainer's state.
func buildCheckpoint(mcfg nn.Config, cfg engine.Config, st engine.State, spec dataSpec, norm *data.Standardizer, fp string, finished bool, backend string) (*checkpoint.Checkpoint, error) {
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	tm, err := json.Marshal(trainingMeta{Config: cj, State: st, Seed: mcfg.Seed, DataFingerprint: fp, Finished: finished, Backend: backend})
	if err != nil {
		return nil, err
	}
	dj, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	return &checkpoint.Checkpoint{Meta: checkpoint.Meta{Model: modelSpec(mcfg), Normalization: normalization(norm), Data: dj, Training: tm},
		Params: st.Params, Velocity: st.Velocity, W0: st.W0, PendingW0: st.PendingW0}, nil
}

// resumeState checks that the checkpoint in dir belongs to this run (same
// architecture, configuration and data) and returns its training state.
// The number of iterations may grow (the run is extended), not shrink below
// the checkpoint's iteration.
func resumeState(dir string, mcfg nn.Config, cfg engine.Config, fp string) (engine.State, resumeInfo, error) {
	st, info, err := readResumeState(dir, mcfg, cfg, fp)
	if err != nil {
		return engine.State{}, info, err
	}
	if cfg.Iters < st.Iter {
		return engine.State{}, info, fmt.Errorf("%s is at iteration %d, beyond this run's %d iterations: pass --iters %d or more to continue it",
			filepath.Join(dir, checkpoint.FileName), st.Iter, cfg.Iters, st.Iter)
	}
	return st, info, nil
}

func readResumeState(dir string, mcfg nn.Config, cfg engine.Config, fp string) (engine.State, resumeInfo, error) {
	var info resumeInfo
	c, err := checkpoint.Read(dir)
	if err != nil {
		return engine.State{}, info, err
	}
	where := filepath.Join(dir, checkpoint.FileName)
	if got, want := describeModel(c.Meta.Model), describeModel(modelSpec(mcfg)); got != want {
		return engine.State{}, info, fmt.Errorf("%s was written for the architecture %s, but this run builds %s", where, got, want)
	}
	var tm trainingMeta
	if len(c.Meta.Training) == 0 || json.Unmarshal(c.Meta.Training, &tm) != nil {
		return engine.State{}, info, fmt.Errorf("%s holds no training state to resume", where)
	}
	if tm.Seed != mcfg.Seed {
		return engine.State{}, info, fmt.Errorf("%s was written with --seed %d, this run has --seed %d", where, tm.Seed, mcfg.Seed)
	}
	var old engine.Config
	if err := json.Unmarshal(tm.Config, &old); err != nil {
		return engine.State{}, info, fmt.Errorf("%s: unreadable training settings: %w", where, err)
	}
	info = resumeInfo{Iters: old.Iters, Finished: tm.Finished, Backend: tm.Backend}
	// The length may change: a finished run can be extended. Settings a
	// checkpoint of an older version lacks compare as their zero values
	// (their default: off).
	same := cfg
	same.Iters = old.Iters
	cj, _ := json.Marshal(same)
	oj, _ := json.Marshal(old)
	if diff := diffJSON(oj, cj); diff != "" {
		return engine.State{}, info, fmt.Errorf("%s was written with other training settings (%s); resume with the same flags", where, diff)
	}
	if tm.DataFingerprint != fp {
		return engine.State{}, info, fmt.Errorf("%s was written for other training data (fingerprint %s, this run's %s)", where, tm.DataFingerprint, fp)
	}
	st := tm.State
	st.Params, st.Velocity, st.W0, st.PendingW0 = c.Params, c.Velocity, c.W0, c.PendingW0
	return st, info, nil
}

// diffJSON lists the top-level and nested keys whose values differ.
func diffJSON(a, b []byte) string {
	var ma, mb map[string]any
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return "unreadable configuration"
	}
	var diffs []string
	var walk func(prefix string, x, y map[string]any)
	walk = func(prefix string, x, y map[string]any) {
		keys := map[string]bool{}
		for k := range x {
			keys[k] = true
		}
		for k := range y {
			keys[k] = true
		}
		for k := range keys {
			xv, yv := x[k], y[k]
			xm, ok1 := xv.(map[string]any)
			ym, ok2 := yv.(map[string]any)
			if ok1 && ok2 {
				walk(prefix+k+".", xm, ym)
				continue
			}
			if fmt.Sprint(xv) != fmt.Sprint(yv) {
				diffs = append(diffs, fmt.Sprintf("%s%s: checkpoint %v, now %v", prefix, k, xv, yv))
			}
		}
	}
	walk("", ma, mb)
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// hasCheckpoint says whether dir already holds a checkpoint file.
func hasCheckpoint(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, checkpoint.FileName))
	return err == nil
}

var errInterrupted = errors.New("interrupted")

// resumeNotes says what a resume does beyond continuing bit for bit: a run
// extended to more iterations (and what that does to the schedule), a
// finished run with nothing left to train, another kernel backend.
func resumeNotes(info resumeInfo, at int, cfg engine.Config, backend string) []string {
	var notes []string
	switch {
	case info.Iters != cfg.Iters && cfg.Schedule != "constant":
		notes = append(notes, fmt.Sprintf("%s the run from %d to %d iterations: the %s learning-rate schedule is now over %d iterations, so iteration %d uses the rate of %.0f%% into it (%g) instead of %.0f%% (%g)",
			lengthVerb(info.Iters, cfg.Iters), info.Iters, cfg.Iters, cfg.Schedule, cfg.Iters, at, 100*float64(at)/float64(cfg.Iters), cfg.LRAt(at),
			100*float64(at)/float64(info.Iters), withIters(cfg, info.Iters).LRAt(at)))
	case info.Iters != cfg.Iters:
		notes = append(notes, fmt.Sprintf("%s the run from %d to %d iterations (constant learning rate %g)", lengthVerb(info.Iters, cfg.Iters), info.Iters, cfg.Iters, cfg.LR))
	case at >= cfg.Iters:
		notes = append(notes, fmt.Sprintf("the checkpointed run is finished (iteration %d of %d): nothing to train; pass a larger --iters or --epochs to continue it", at, cfg.Iters))
	}
	if info.Backend != "" && info.Backend != backend {
		notes = append(notes, fmt.Sprintf("warning: the checkpoint was written by the %s kernel backend and this run uses %s: the continuation is not bit-exact with an uninterrupted %s run (float32 sums in another order)",
			info.Backend, backend, info.Backend))
	}
	return notes
}

func lengthVerb(from, to int) string {
	if to < from {
		return "shortening"
	}
	return "extending"
}

func withIters(cfg engine.Config, iters int) engine.Config {
	cfg.Iters = iters
	return cfg
}
