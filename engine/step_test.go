package engine

import (
	"context"
	"math"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// TestStepAllocs: a training iteration (draw, minibatch gradient, update)
// allocates nothing once the trainer's buffers exist, for every sampler
// whose step is O(batch) (the O(N) samplers run parallel passes).
func TestStepAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("-race: sync.Pool drops items at random and the detector allocates")
	}
	ds := smallTeacher(400, 4, 1, 3)
	for _, c := range []struct {
		name string
		cfg  func() Config
	}{
		{"uniform", func() Config { return testConfig(SamplerUniform) }},
		{"lsh", func() Config { return testConfig(SamplerLSH) }},
		{"lsh-lgd", func() Config {
			c := testConfig(SamplerLSH)
			c.Prob, c.Hash.Query = ProbLGD, ntk.QueryPaper
			return c
		}},
		{"ntk-static", func() Config { return testConfig(SamplerNTKStatic) }},
		{"upper-bound", func() Config { return testConfig(SamplerUpperBound) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
			cfg := c.cfg()
			cfg.Iters = 5
			tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			st := tr.stepper()
			iter := func() {
				if err := tr.samp.Draw(tr.rng, tr.m.Params, tr.idx, tr.w); err != nil {
					t.Fatal(err)
				}
				if _, _, err := st.Step(tr.idx, tr.w, 1e-4); err != nil {
					t.Fatal(err)
				}
			}
			if a := testing.AllocsPerRun(50, iter); a != 0 {
				t.Errorf("%g allocations per iteration", a)
			}
		})
	}
}

// TestFinite: the divergence check finds one Inf or NaN anywhere in a
// vector (every position of a short one, both ends of a long one) and
// accepts the largest finite float32 values.
func TestFinite(t *testing.T) {
	ds := smallTeacher(50, 4, 1, 3)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
	tr, err := NewTrainer(testBackend, m, ds, nil, testConfig(SamplerUniform))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 7, 8, 9, 33, 1000} {
		v := make([]float32, n)
		for i := range v {
			v[i] = math.MaxFloat32
			if i%2 == 1 {
				v[i] = -math.MaxFloat32
			}
		}
		if !tr.host.finite(v) {
			t.Fatalf("n=%d: ±MaxFloat32 reported as not finite", n)
		}
		for _, bad := range []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())} {
			for _, i := range []int{0, n / 2, n - 1} {
				w := append([]float32(nil), v...)
				w[i] = bad
				if tr.host.finite(w) {
					t.Fatalf("n=%d: %v at %d not found", n, bad, i)
				}
			}
		}
	}
	if !tr.host.finite(nil) {
		t.Fatal("empty vector reported as not finite")
	}
}

// TestNonFiniteDirectionReachesWeights: the divergence check reads only the
// weights, which relies on a NaN or ±Inf in the step direction turning the
// weight it touches non-finite, at every step size including 0.
func TestNonFiniteDirectionReachesWeights(t *testing.T) {
	ds := smallTeacher(50, 4, 1, 3)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
	tr, err := NewTrainer(testBackend, m, ds, nil, testConfig(SamplerUniform))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		for _, lr := range []float32{0, 1e-3, -1} {
			for _, i := range []int{0, 13, 40} {
				dir := make([]float32, 41)
				dir[i] = bad
				w := make([]float32, 41)
				for k := range w {
					w[k] = float32(k) - 20
				}
				testBackend.Axpy(-lr, dir, w)
				if tr.host.finite(w) {
					t.Fatalf("lr %g, %v at %d: weights still finite", lr, bad, i)
				}
			}
		}
	}
}
