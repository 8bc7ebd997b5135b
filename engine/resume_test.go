package engine

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
)

func TestEvalJSONRoundTripsNonFinite(t *testing.T) {
	e := Eval{Iter: 7, TrainLoss: 0.5, TestLoss: math.NaN(), ESS: math.Inf(1), MaxWeight: math.Inf(-1), SecondMoment: 0.25, NonEmpty: 3}
	b, err := json.Marshal(State{Evals: []Eval{e}})
	if err != nil {
		t.Fatal(err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	got := s.Evals[0]
	if got.Iter != 7 || got.TrainLoss != 0.5 || !math.IsNaN(got.TestLoss) || !math.IsInf(got.ESS, 1) || !math.IsInf(got.MaxWeight, -1) || got.NonEmpty != 3 {
		t.Fatalf("round trip: %+v", got)
	}
}

// TestResumedRunReportsWholeRun: a run interrupted and resumed reports every
// evaluation of the whole run and a wall time that covers both segments,
// and resuming a finished run re-evaluates it (its tables are rebuilt)
// instead of failing.
func TestResumedRunReportsWholeRun(t *testing.T) {
	for _, s := range []string{SamplerUniform, SamplerLSH, SamplerNTKStatic} {
		cfg := testConfig(s)
		full := newTestTrainer(t, cfg)
		want, err := full.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		part := newTestTrainer(t, cfg)
		ctx, cancel := context.WithCancel(context.Background())
		part.Recorder = Observers{OnIter: func(r IterRecord) {
			if r.Iter == cfg.Iters/2 {
				cancel()
			}
		}}
		_, err = part.Train(ctx)
		var ie *InterruptedError
		if !errors.As(err, &ie) {
			t.Fatalf("%s: %v, want an interruption", s, err)
		}
		st := part.State()
		// Through JSON, as a checkpoint stores it.
		b, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var st2 State
		if err := json.Unmarshal(b, &st2); err != nil {
			t.Fatal(err)
		}
		st2.Params, st2.Velocity, st2.W0 = st.Params, st.Velocity, st.W0
		resumed := newTestTrainer(t, cfg)
		if err := resumed.Restore(st2); err != nil {
			t.Fatal(err)
		}
		got, err := resumed.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Evals) != len(want.Evals) {
			t.Fatalf("%s: %d evaluation rows after resuming, want %d", s, len(got.Evals), len(want.Evals))
		}
		for k := range want.Evals {
			if got.Evals[k].Iter != want.Evals[k].Iter || got.Evals[k].TrainLoss != want.Evals[k].TrainLoss {
				t.Fatalf("%s: row %d: iteration %d loss %v, want %d %v", s, k, got.Evals[k].Iter, got.Evals[k].TrainLoss, want.Evals[k].Iter, want.Evals[k].TrainLoss)
			}
		}
		if got.Wall.Seconds() < got.Final.TrainSeconds {
			t.Fatalf("%s: wall %v below training seconds %v", s, got.Wall.Seconds(), got.Final.TrainSeconds)
		}
		// Resuming the finished run: nothing to train, the final row again.
		again := newTestTrainer(t, cfg)
		if err := again.Restore(resumed.State()); err != nil {
			t.Fatal(err)
		}
		fin, err := again.Train(context.Background())
		if err != nil {
			t.Fatalf("%s: resuming a finished run: %v", s, err)
		}
		if len(fin.Evals) != len(want.Evals) || !reflect.DeepEqual(fin.Final.TrainLoss, want.Final.TrainLoss) {
			t.Fatalf("%s: finished run resumed: %d rows, final loss %v, want %d, %v", s, len(fin.Evals), fin.Final.TrainLoss, len(want.Evals), want.Final.TrainLoss)
		}
	}
}

// TestExtendFinishedRun: a finished run continues with more iterations.
func TestExtendFinishedRun(t *testing.T) {
	cfg := testConfig(SamplerNTKStatic)
	first := newTestTrainer(t, cfg)
	if _, err := first.Train(context.Background()); err != nil {
		t.Fatal(err)
	}
	longer := cfg
	longer.Iters = 2 * cfg.Iters
	ext := newTestTrainer(t, longer)
	if err := ext.Restore(first.State()); err != nil {
		t.Fatal(err)
	}
	res, err := ext.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Final.Iter != longer.Iters || res.Evals[0].Iter != 0 {
		t.Fatalf("extended run: final iteration %d, first row %d", res.Final.Iter, res.Evals[0].Iter)
	}
}

// newTestTrainer makes a trainer of cfg on a small heavy-tailed set, with
// the same data, model initialization and test set each time.
func newTestTrainer(t *testing.T, cfg Config) *Trainer {
	t.Helper()
	ds := smallTeacher(500, 5, 1, 21)
	m, _ := nn.New(nn.Config{In: 5, Out: 1, Hidden: []int{16}, Activation: nn.ReLU, Seed: 2})
	cfg.EvalEvery = 30
	tr, err := NewTrainer(testBackend, m, ds, ds, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
