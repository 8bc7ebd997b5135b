package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
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
		{"uniform-gn-momentum-keep", func() Config {
			c := testConfig(SamplerUniform)
			c.StepSize, c.Momentum, c.KeepStepping, c.StepGrowth = StepGN, 0.9, 2, 1.5
			return c
		}},
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

// TestClipNorm: with ClipNorm c the host stepper steps along the minibatch
// gradient scaled to norm c when it is longer (checked against the clipped
// step computed in float64 from the unclipped gradient), leaves a shorter
// one bit for bit as it is, feeds the clipped gradient to momentum, and
// Validate and DeviceStepSupported refuse what they should.
func TestClipNorm(t *testing.T) {
	ds := smallTeacher(64, 4, 1, 3)
	idx := []int{3, 9, 17, 20, 41, 5, 60, 33}
	w := []float64{1, 0.5, 2, 1, 1, 3, 0.25, 1}
	const lr = 0.05
	// run takes one step (two with momentum) with clip-norm c from the
	// same initialization and returns the parameters before and after and
	// the unclipped gradient of the first step.
	run := func(c, mom float64, steps int) (p0, p1 []float32, g []float64) {
		m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
		cfg := testConfig(SamplerUniform)
		cfg.ClipNorm, cfg.Momentum = c, mom
		tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
		if err != nil {
			t.Fatal(err)
		}
		p0 = append([]float32(nil), m.Params...)
		hs := tr.host
		hs.idx, hs.w = idx, w
		hs.minibatchGrad()
		for _, v := range hs.grad {
			g = append(g, float64(v))
		}
		for k := 0; k < steps; k++ {
			if _, finite, err := hs.Step(idx, w, lr); err != nil || !finite {
				t.Fatal(err, finite)
			}
		}
		return p0, append([]float32(nil), m.Params...), g
	}
	_, ref, g := run(0, 0, 1)
	var n2 float64
	for _, v := range g {
		n2 += v * v
	}
	norm := math.Sqrt(n2)
	if norm == 0 {
		t.Fatal("zero gradient")
	}
	// A clip above the norm changes nothing.
	if _, p1, _ := run(2*norm, 0, 1); !equal32(p1, ref) {
		t.Error("clip-norm above the gradient norm changed the step")
	}
	for _, frac := range []float64{0.5, 0.01} {
		c := frac * norm
		p0, p1, _ := run(c, 0, 1)
		var stepNorm2, maxErr float64
		for i := range p0 {
			want := float64(p0[i]) - lr*g[i]*c/norm
			maxErr = math.Max(maxErr, math.Abs(float64(p1[i])-want)/(1e-3+math.Abs(want)))
			d := float64(p0[i]) - float64(p1[i])
			stepNorm2 += d * d
		}
		if maxErr > 1e-5 {
			t.Errorf("c = %g·|g|: relative error %g against the float64 clipped step", frac, maxErr)
		}
		if got := math.Sqrt(stepNorm2); math.Abs(got-lr*c)/(lr*c) > 1e-3 {
			t.Errorf("c = %g·|g|: step length %g, want lr·c = %g", frac, got, lr*c)
		}
	}
	// With momentum the velocity accumulates the clipped gradient: the
	// first step (zero velocity) equals the plain clipped step.
	_, a, _ := run(0.5*norm, 0.9, 1)
	_, b, _ := run(0.5*norm, 0, 1)
	if !equal32(a, b) {
		t.Error("the first momentum step differs from the plain clipped step")
	}
	bad := testConfig(SamplerUniform)
	for _, c := range []float64{-1, math.NaN(), math.Inf(1)} {
		bad.ClipNorm = c
		if bad.Validate() == nil {
			t.Errorf("clip-norm %g accepted", c)
		}
	}
	bad.ClipNorm = 1
	if bad.Validate() != nil {
		t.Errorf("clip-norm 1 refused: %v", bad.Validate())
	}
	if DeviceStepSupported(bad) == nil {
		t.Error("a device stepper would accept clip-norm")
	}
}

func equal32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestLRWarmup: with Warmup = W, iteration it < W gets (it+1)/W of the
// schedule's rate, and from W on the schedule alone; W = 0 leaves every
// schedule as it was; Validate refuses a negative warm-up.
func TestLRWarmup(t *testing.T) {
	for _, sched := range []string{"constant", "linear", "cosine"} {
		c := DefaultConfig()
		c.LR, c.Iters, c.Schedule = 0.4, 100, sched
		plain := c
		c.Warmup = 10
		for it := 0; it < c.Iters; it++ {
			want := plain.LRAt(it)
			if it < 10 {
				want *= float64(it+1) / 10
			}
			if got := c.LRAt(it); math.Abs(got-want) > 1e-15 {
				t.Fatalf("%s: iteration %d: lr %v, want %v", sched, it, got, want)
			}
		}
		if plain.LRAt(0) != 0.4 || math.Abs(c.LRAt(0)-0.04) > 1e-15 {
			t.Errorf("%s: first rates %v and %v", sched, plain.LRAt(0), c.LRAt(0))
		}
	}
	c := DefaultConfig()
	c.Warmup = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "warmup=-1") {
		t.Errorf("negative warm-up: %v", err)
	}
	c.Warmup = 5
	if !strings.Contains(c.String(), "warmup=5") {
		t.Errorf("String() lacks the warm-up: %s", c)
	}
}

// TestHeavyBallScale: the unrolled momentum update and gradient scaling
// equal the plain loops bit for bit at every length (tails included), the
// update with velocities below 2⁻¹⁰⁰ flushed to zero.
func TestHeavyBallScale(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for n := 0; n <= 19; n++ {
		g, v := make([]float32, n), make([]float32, n+2)
		for i := range g {
			g[i] = float32(r.NormFloat64())
		}
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if n > 2 {
			// Velocities that fall below the flush threshold become 0.
			v[1], g[1] = 1e-31, 0
			v[2], g[2] = -2e-38, 1e-45
		}
		want := append([]float32(nil), v...)
		for i := range g {
			want[i] = 0.9*want[i] + g[i]
			if math.Abs(float64(want[i])) < 0x1p-100 {
				want[i] = 0
			}
		}
		heavyBall(v, 0.9, g)
		for i := range v {
			if math.Float32bits(v[i]) != math.Float32bits(want[i]) {
				t.Fatalf("n=%d: heavyBall element %d = %v, want %v (guard beyond n untouched)", n, i, v[i], want[i])
			}
		}
		x := append([]float32(nil), g...)
		scale(x, 0.37)
		for i := range x {
			if w := g[i] * 0.37; math.Float32bits(x[i]) != math.Float32bits(w) {
				t.Fatalf("n=%d: scale element %d = %v, want %v", n, i, x[i], w)
			}
		}
	}
}

// BenchmarkHeavyBall: the momentum update at P = 18 433 (16-1024-1).
func BenchmarkHeavyBall(b *testing.B) {
	g, v := make([]float32, 18433), make([]float32, 18433)
	for i := range g {
		g[i] = float32(i%13) * 0.01
	}
	for b.Loop() {
		heavyBall(v, 0.9, g)
	}
}
