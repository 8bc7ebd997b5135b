package engine

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/sample"
)

// TestResumeBitExact interrupts a run mid-way (between rehashes), restores
// its state into a fresh trainer and checks that the final weights equal an
// uninterrupted run's bit for bit, for every sampler.
func TestResumeBitExact(t *testing.T) {
	ds := smallTeacher(500, 4, 2, 21)
	for _, s := range SamplerNames() {
		cfg := testConfig(s)
		cfg.Iters = 90
		cfg.RehashEvery = 25
		cfg.Momentum = 0.5
		cfg.Schedule = "cosine"
		cfg.EvalEvery = 40
		cfg.TauThreshold = 1.05
		if s == SamplerUniform {
			cfg.KeepStepping, cfg.StepGrowth = 2, 1.5
		}
		newT := func() *Trainer {
			m, _ := nn.New(nn.Config{In: 4, Out: 2, Hidden: []int{8, 5}, Activation: nn.Tanh, Seed: 3})
			tr, err := NewTrainer(testBackend, m, ds, ds, cfg)
			if err != nil {
				t.Fatal(err)
			}
			return tr
		}
		ref := newT()
		if _, err := ref.Train(context.Background()); err != nil {
			t.Fatal(err)
		}
		a := newT()
		ctx, cancel := context.WithCancel(context.Background())
		a.Recorder = Observers{OnIter: func(r IterRecord) {
			if r.Iter == 37 {
				cancel()
			}
		}}
		_, err := a.Train(ctx)
		var ie *InterruptedError
		if !errors.As(err, &ie) || ie.Iter != 38 {
			t.Fatalf("%s: interrupted with %v", s, err)
		}
		st := a.State()
		b := newT()
		if err := b.Restore(st); err != nil {
			t.Fatal(err)
		}
		res, err := b.Train(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range ref.m.Params {
			if b.m.Params[i] != v {
				t.Fatalf("%s: parameter %d differs after resume: %v vs %v", s, i, b.m.Params[i], v)
			}
		}
		if res.Final.Rehashes != 4 && sample.NeedsLinearization(b.samp) {
			t.Errorf("%s: %d rehashes after resume, want 4", s, res.Final.Rehashes)
		}
	}
}

func TestRestoreRejectsMismatch(t *testing.T) {
	ds := smallTeacher(100, 4, 1, 2)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 3})
	tr, _ := NewTrainer(testBackend, m, ds, nil, testConfig(SamplerLSH))
	st := tr.State()
	st.Params = st.Params[:10]
	if err := tr.Restore(st); err == nil {
		t.Error("wrong parameter count accepted")
	}
	st = tr.State()
	st.Iter = 10 // mid-period without a rehash point
	if err := tr.Restore(st); err == nil {
		t.Error("missing rehash point accepted")
	}
	st = tr.State()
	st.RNG = []byte("garbage")
	if err := tr.Restore(st); err == nil {
		t.Error("bad RNG state accepted")
	}
}

// TestStateKeepsGNDamping: the gn step size's λ travels in the state (and
// its JSON), so a resumed gn run continues with the damping it had.
func TestStateKeepsGNDamping(t *testing.T) {
	ds := smallTeacher(100, 4, 1, 2)
	cfg := testConfig(SamplerUniform)
	cfg.StepSize = StepGN
	newT := func() *Trainer {
		m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 3})
		tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	a := newT()
	a.host.lambda = 0.375
	b, err := json.Marshal(a.State())
	if err != nil {
		t.Fatal(err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	st.Params = a.State().Params
	c := newT()
	if err := c.Restore(st); err != nil {
		t.Fatal(err)
	}
	if c.host.lambda != 0.375 {
		t.Fatalf("λ after restore %v, want 0.375", c.host.lambda)
	}
}
