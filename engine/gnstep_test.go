package engine

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"gonum.org/v1/gonum/mat"
)

// forward64 is a float64 reference forward pass of m's layout at params
// (float64) for one input x.
func forward64(m *nn.MLP, params, x []float64) []float64 {
	h := x
	L := m.Layers()
	for l := 1; l <= L; l++ {
		out, in := m.Sizes[l], m.Sizes[l-1]
		W := params[m.WeightOffset(l) : m.WeightOffset(l)+out*in]
		b := params[m.BiasOffset(l) : m.BiasOffset(l)+out]
		z := make([]float64, out)
		for o := range z {
			s := b[o]
			for k := 0; k < in; k++ {
				s += W[o*in+k] * h[k]
			}
			z[o] = s
			if l < L {
				switch m.Activation {
				case nn.ReLU:
					z[o] = math.Max(0, s)
				case nn.Tanh:
					z[o] = math.Tanh(s)
				}
			}
		}
		h = z
	}
	return h
}

// jacobian64 returns the Out × P Jacobian of the network output at x by
// central differences of forward64 (float64, step 1e-6).
func jacobian64(m *nn.MLP, params, x []float64) [][]float64 {
	P := len(params)
	J := make([][]float64, m.Out)
	for o := range J {
		J[o] = make([]float64, P)
	}
	p := append([]float64(nil), params...)
	const h = 1e-6
	for j := 0; j < P; j++ {
		p[j] = params[j] + h
		fp := forward64(m, p, x)
		p[j] = params[j] - h
		fm := forward64(m, p, x)
		p[j] = params[j]
		for o := range J {
			J[o][j] = (fp[o] - fm[o]) / (2 * h)
		}
	}
	return J
}

// gnReference computes, in float64 from explicitly formed per-example
// Jacobians, the minibatch's gradient g, Jd_b for each example and
// dᵀGd = (1/B) Σ_b w_b |J_b d|², and the residuals r_b.
func gnReference(m *nn.MLP, ds *data.Dataset, params []float32, idx []int, w []float64, d []float32) (g []float64, jd, r [][]float64, dGd float64) {
	P := len(params)
	p64 := make([]float64, P)
	for i, v := range params {
		p64[i] = float64(v)
	}
	g = make([]float64, P)
	B := float64(len(idx))
	for b, i := range idx {
		x := make([]float64, m.In)
		for k := range x {
			x[k] = float64(ds.X[i*m.In+k])
		}
		f := forward64(m, p64, x)
		J := jacobian64(m, p64, x)
		rb := make([]float64, m.Out)
		jdb := make([]float64, m.Out)
		for o := range f {
			rb[o] = f[o] - float64(ds.Y[i*m.Out+o])
			for j := 0; j < P; j++ {
				g[j] += w[b] / B * rb[o] * J[o][j]
				jdb[o] += J[o][j] * float64(d[j])
			}
			dGd += w[b] / B * jdb[o] * jdb[o]
		}
		jd, r = append(jd, jdb), append(r, rb)
	}
	return g, jd, r, dGd
}

// gnTrainer builds a trainer of a tiny network with --step-size gn.
func gnTrainer(t *testing.T, act nn.Activation, out int, mutate func(*Config)) (*Trainer, *data.Dataset) {
	t.Helper()
	ds := smallTeacher(64, 3, out, 5)
	m, err := nn.New(nn.Config{In: 3, Out: out, Hidden: []int{5, 4}, Activation: act, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(SamplerUniform)
	cfg.Batch = 8
	cfg.StepSize = StepGN
	if mutate != nil {
		mutate(&cfg)
	}
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.host.Start(cfg, m.Params); err != nil {
		t.Fatal(err)
	}
	return tr, ds
}

var gnIdx, gnW = []int{3, 9, 17, 20, 41, 5, 60, 33}, []float64{1, 0.5, 2, 1, 1, 3, 0.25, 1}

// TestGNCurvature: the stepper's dᵀGd (one batched float32 JVP) equals
// (1/B) Σ_b w_b |J_b d|² from per-example Jacobians formed explicitly in
// float64 by central differences, for the gradient direction and a random
// one, tanh and relu, one and two outputs.
func TestGNCurvature(t *testing.T) {
	for _, act := range []nn.Activation{nn.Tanh, nn.ReLU} {
		for _, out := range []int{1, 2} {
			tr, ds := gnTrainer(t, act, out, nil)
			hs := tr.host
			hs.idx, hs.w = gnIdx, gnW
			hs.minibatchGrad()
			rnd := make([]float32, len(hs.grad))
			for i := range rnd {
				rnd[i] = float32(math.Sin(float64(7*i + 1)))
			}
			for name, d := range map[string][]float32{"gradient": append([]float32(nil), hs.grad...), "random": rnd} {
				g, _, _, want := gnReference(tr.m, ds, tr.m.Params, gnIdx, gnW, d)
				got := hs.curvature(d)
				if math.Abs(got-want) > 1e-4*want {
					t.Errorf("%v out=%d %s: dᵀGd %g, explicit Jacobians %g", act, out, name, got, want)
				}
				var gd, gdRef float64
				for i := range g {
					gd += float64(hs.grad[i]) * float64(d[i])
					gdRef += g[i] * float64(d[i])
				}
				if math.Abs(gd-gdRef) > 1e-4*math.Abs(gdRef)+1e-9 {
					t.Errorf("%v out=%d %s: g·d %g, reference %g", act, out, name, gd, gdRef)
				}
			}
		}
	}
}

// TestGNStepMinimizesModel: with no cap in reach and λ = 0 the step size
// t is the minimizer of the minibatch's linearized loss
// L(t) = (1/B) Σ_b w_b ½|r_b − t·J_b d|² along −d, found here by a brute
// force search in float64; the step moves the parameters by −t·d and the
// predicted decrease is L(0) − L(t).
func TestGNStepMinimizesModel(t *testing.T) {
	for _, act := range []nn.Activation{nn.Tanh, nn.ReLU} {
		tr, ds := gnTrainer(t, act, 2, func(c *Config) { c.LR = 1e5 })
		hs := tr.host
		hs.idx, hs.w = gnIdx, gnW
		hs.minibatchGrad()
		d := append([]float32(nil), hs.grad...)
		_, jd, r, _ := gnReference(tr.m, ds, tr.m.Params, gnIdx, gnW, d)
		lin := func(s float64) float64 {
			var l float64
			for b := range r {
				for o := range r[b] {
					e := r[b][o] - s*jd[b][o]
					l += gnW[b] / float64(len(r)) * 0.5 * e * e
				}
			}
			return l
		}
		// Brute force: a coarse scan, then golden-section refinement.
		best, bestL := 0.0, lin(0)
		for s := 1e-4; s < 1e4; s *= 1.01 {
			if l := lin(s); l < bestL {
				best, bestL = s, l
			}
		}
		lo, hi := best/1.01, best*1.01
		for k := 0; k < 200; k++ {
			a, b := lo+(hi-lo)*0.382, lo+(hi-lo)*0.618
			if lin(a) < lin(b) {
				hi = b
			} else {
				lo = a
			}
		}
		tBrute := (lo + hi) / 2
		p0 := append([]float32(nil), tr.m.Params...)
		if _, finite, err := hs.Step(gnIdx, gnW, 1e5); err != nil || !finite {
			t.Fatal(err, finite)
		}
		st := hs.stats
		if st.StepSize != StepGN || st.Lambda != 0 {
			t.Fatalf("%v: stats %+v", act, st)
		}
		if math.Abs(st.T-tBrute) > 1e-4*tBrute {
			t.Errorf("%v: step %g, brute-force minimizer of the linearized loss %g", act, st.T, tBrute)
		}
		if want := lin(0) - lin(tBrute); math.Abs(st.PredDecrease-want) > 1e-4*want {
			t.Errorf("%v: predicted decrease %g, linearized model %g", act, st.PredDecrease, want)
		}
		if st.Rejected {
			t.Fatalf("%v: step rejected: %+v", act, st)
		}
		var maxErr float64
		for i := range p0 {
			want := float64(p0[i]) - st.T*float64(d[i])
			maxErr = math.Max(maxErr, math.Abs(float64(tr.m.Params[i])-want)/(1e-3+math.Abs(want)))
		}
		if maxErr > 1e-5 {
			t.Errorf("%v: parameters off −t·d by %g (relative)", act, maxErr)
		}
		// The cap: lr below t* is the step.
		tr2, _ := gnTrainer(t, act, 2, nil)
		if _, _, err := tr2.host.Step(gnIdx, gnW, st.T/3); err != nil {
			t.Fatal(err)
		}
		if got := tr2.host.stats.T; got != st.T/3 {
			t.Errorf("%v: capped step %g, want lr = %g", act, got, st.T/3)
		}
	}
}

// TestLMUpdate: the damping doubles below ρ = 0.25 (from λ_min when it was
// 0), quadruples when the loss rose (ρ < 0, and NaN), halves above 0.75
// (to 0 below λ_min), stays between, and never exceeds λ_max.
func TestLMUpdate(t *testing.T) {
	for _, c := range []struct{ lambda, rho, want float64 }{
		{0, 0.5, 0},
		{1, 0.5, 1},
		{1, 0.25, 1},
		{1, 0.75, 1},
		{0, 0.1, lmMin},
		{1, 0.1, 2},
		{1, 0, 2},
		{1, -0.5, 4},
		{0, -3, lmMin},
		{1, math.NaN(), 4},
		{1, math.Inf(-1), 4},
		{1, 0.9, 0.5},
		{1, math.Inf(1), 0.5},
		{lmMin, 0.9, 0},
		{1.5 * lmMin, 0.9, 0},
		{0, 1, 0},
		{lmMax, 0.1, lmMax},
		{lmMax / 3, -1, lmMax},
	} {
		if got := lmUpdate(c.lambda, c.rho); got != c.want {
			t.Errorf("lmUpdate(%g, %g) = %g, want %g", c.lambda, c.rho, got, c.want)
		}
	}
}

// TestGNRejectsUphillStep: a step that raises the minibatch loss (here,
// forced by an undamped step of a net far from linear: targets 30·x_0
// on a tanh net) is undone bit for bit and raises λ.
func TestGNRejectsUphillStep(t *testing.T) {
	tr, ds := gnTrainer(t, nn.Tanh, 1, func(c *Config) { c.LR = 1e5 })
	// Targets 30·x_0: the tanh units saturate along the long steps.
	for i := range ds.Y {
		ds.Y[i] = 30 * ds.X[i*3]
	}
	hs := tr.host
	for k := 0; k < 200; k++ {
		idx := []int{k % 64, (7 * k) % 64, (13*k + 5) % 64, (29*k + 3) % 64}
		w := []float64{1, 1, 1, 1}
		p0 := append([]float32(nil), tr.m.Params...)
		lambda := hs.lambda
		loss, _, err := hs.Step(idx, w, 1e5)
		if err != nil {
			t.Fatal(err)
		}
		st := hs.stats
		if !st.Rejected {
			continue
		}
		if !equal32(p0, tr.m.Params) {
			t.Fatal("rejected step did not restore the parameters")
		}
		if !(st.ActualDecrease < 0) || hs.lambda != lmUpdate(lambda, st.ActualDecrease/st.PredDecrease) || hs.lambda <= lambda {
			t.Fatalf("rejected step: %+v, λ %g → %g", st, lambda, hs.lambda)
		}
		if l := hs.batchLoss(); l != loss {
			t.Fatalf("loss after the undone step %g, before %g", l, loss)
		}
		return
	}
	t.Fatal("no step was rejected in 200")
}

// TestGNTrains: gn with every sampler, momentum off and on, keep-stepping
// off and on, and clip-norm, lowers the training loss; the run's
// iteration records carry the step diagnostics.
func TestGNTrains(t *testing.T) {
	ds := smallTeacher(400, 4, 1, 3)
	for _, s := range []string{SamplerUniform, SamplerLSH, SamplerNTKStatic, SamplerUpperBound} {
		for _, v := range []struct {
			mom  float64
			keep int
			clip float64
		}{{0, 0, 0}, {0.9, 0, 0}, {0, 2, 0}, {0.9, 2, 1}} {
			m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
			cfg := testConfig(s)
			cfg.StepSize, cfg.Momentum, cfg.KeepStepping, cfg.StepGrowth, cfg.ClipNorm = StepGN, v.mom, v.keep, 1.5, v.clip
			cfg.Iters, cfg.LR, cfg.DiagSubset = 120, 1, 0
			tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			var recs []IterRecord
			tr.Recorder = Observers{OnIter: func(r IterRecord) { recs = append(recs, r) }}
			res, err := tr.Train(context.Background())
			if err != nil {
				t.Fatalf("%s %+v: %v", s, v, err)
			}
			if !(res.Final.TrainLoss < 0.7*res.Evals[0].TrainLoss) {
				t.Errorf("%s %+v: train loss %g → %g", s, v, res.Evals[0].TrainLoss, res.Final.TrainLoss)
			}
			for _, r := range recs {
				if r.StepSize != StepGN || !(r.T > 0 && r.T <= cfg.LR) || r.Lambda < 0 {
					t.Fatalf("%s %+v: iteration record %+v", s, v, r)
				}
			}
		}
	}
}

// TestNewtonFullBatch: with the linear model and Batch = N, one newton step
// (lr 1) lands on the least-squares optimum of the whole training set to
// 1e-6 relative (a float64 QR solve); with a small weighted minibatch it
// lands on that minibatch's weighted least-squares solution.
func TestNewtonFullBatch(t *testing.T) {
	const n, in, out = 300, 4, 2
	ds := smallTeacher(n, in, out, 9)
	solve := func(idx []int, w []float64) *mat.Dense {
		A := mat.NewDense(len(idx), in+1, nil)
		Y := mat.NewDense(len(idx), out, nil)
		for r, i := range idx {
			s := math.Sqrt(w[r])
			for k := 0; k < in; k++ {
				A.Set(r, k, s*float64(ds.X[i*in+k]))
			}
			A.Set(r, in, s)
			for o := 0; o < out; o++ {
				Y.Set(r, o, s*float64(ds.Y[i*out+o]))
			}
		}
		var qr mat.QR
		qr.Factorize(A)
		var sol mat.Dense
		if err := qr.SolveTo(&sol, false, Y); err != nil {
			t.Fatal(err)
		}
		return &sol
	}
	check := func(name string, m *nn.MLP, sol *mat.Dense, tol float64) {
		var num, den float64
		for o := 0; o < out; o++ {
			for k := 0; k <= in; k++ {
				got := float64(m.B(1)[o])
				if k < in {
					got = float64(m.W(1)[o*in+k])
				}
				d := got - sol.At(k, o)
				num += d * d
				den += sol.At(k, o) * sol.At(k, o)
			}
		}
		if rel := math.Sqrt(num / den); rel > tol {
			t.Errorf("%s: relative distance %g from the least-squares solution", name, rel)
		}
	}
	all := make([]int, n)
	ones := make([]float64, n)
	for i := range all {
		all[i], ones[i] = i, 1
	}
	m, _ := nn.New(nn.Config{In: in, Out: out, Seed: 3})
	cfg := testConfig(SamplerUniform)
	cfg.StepSize, cfg.Batch, cfg.LR, cfg.Iters = StepNewton, n, 1, 1
	tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var recs []IterRecord
	tr.Recorder = Observers{OnIter: func(r IterRecord) { recs = append(recs, r) }}
	res, err := tr.Train(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	check("full batch", m, solve(all, ones), 1e-6)
	// One step reached the optimum: the predicted decrease is the actual
	// one (the loss is quadratic), and the loss is the least-squares one.
	if st := recs[0].StepStats; st.StepSize != StepNewton || math.Abs(st.PredDecrease-st.ActualDecrease) > 1e-5*st.PredDecrease {
		t.Errorf("newton step stats %+v", st)
	}
	if l := res.Final.TrainLoss; math.Abs(recs[0].BatchLoss-recs[0].ActualDecrease-l) > 1e-6*l {
		t.Errorf("loss after the step %g, full-set loss %g", recs[0].BatchLoss-recs[0].ActualDecrease, l)
	}

	// A weighted minibatch (with a repeated point).
	m2, _ := nn.New(nn.Config{In: in, Out: out, Seed: 3})
	cfg.Batch = 12
	tr2, err := NewTrainer(testBackend, m2, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{1, 50, 7, 99, 200, 13, 7, 250, 42, 180, 120, 66}
	w := []float64{1, 0.5, 2, 1, 1, 3, 0.25, 1, 4, 0.3, 1, 2}
	if _, finite, err := tr2.host.Step(idx, w, 1); err != nil || !finite {
		t.Fatal(err, finite)
	}
	check("weighted minibatch", m2, solve(idx, w), 1e-5)
	// lr below 1: that fraction of the Newton step.
	m3, _ := nn.New(nn.Config{In: in, Out: out, Seed: 3})
	p0 := append([]float32(nil), m3.Params...)
	tr3, _ := NewTrainer(testBackend, m3, ds, nil, cfg)
	if _, _, err := tr3.host.Step(idx, w, 0.25); err != nil {
		t.Fatal(err)
	}
	for i := range p0 {
		want := float64(p0[i]) + 0.25*(float64(m2.Params[i])-float64(p0[i]))
		if math.Abs(float64(m3.Params[i])-want) > 1e-5*(1+math.Abs(want)) {
			t.Fatalf("param %d: %g after a quarter Newton step, want %g", i, m3.Params[i], want)
		}
	}
}

// TestStepSizeRefusals: Validate, the host stepper's Start and the device
// steppers refuse what they do not support.
func TestStepSizeRefusals(t *testing.T) {
	c := testConfig(SamplerUniform)
	for _, s := range []string{"", StepFixed, StepGN, StepNewton} {
		c.StepSize = s
		if err := c.Validate(); err != nil {
			t.Errorf("step-size %q refused: %v", s, err)
		}
		if err := DeviceStepSupported(c); (err == nil) != (s == "" || s == StepFixed) {
			t.Errorf("step-size %q: device stepper says %v", s, err)
		}
	}
	c.StepSize = "newtonian"
	if c.Validate() == nil {
		t.Error("unknown step size accepted")
	}
	c.StepSize = StepNewton
	c.Momentum = 0.5
	if c.Validate() == nil {
		t.Error("newton with momentum accepted")
	}
	c.Momentum = 0
	c.Iters = 5
	ds := smallTeacher(50, 4, 1, 3)
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Seed: 1})
	tr, err := NewTrainer(testBackend, m, ds, nil, c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Train(context.Background()); err == nil || !strings.Contains(err.Error(), "--hidden 0") {
		t.Errorf("newton with a hidden layer: %v", err)
	}
	if !strings.Contains(c.String(), "step-size=newton") {
		t.Errorf("String() = %q", c.String())
	}
}

// BenchmarkStepSize: one host step (draw excluded) of a 16-w-1 ReLU
// network on batch 10, the time-to-target paper shape, fixed against gn.
func BenchmarkStepSize(b *testing.B) {
	ds := smallTeacher(1000, 16, 1, 3)
	for _, w := range []int{32, 256} {
		for _, s := range []string{StepFixed, StepGN} {
			b.Run(s+"-w"+strconv.Itoa(w), func(b *testing.B) {
				m, _ := nn.New(nn.Config{In: 16, Out: 1, Hidden: []int{w}, Seed: 1})
				cfg := testConfig(SamplerUniform)
				cfg.Batch, cfg.StepSize, cfg.LR = 10, s, 0.01
				tr, err := NewTrainer(testBackend, m, ds, nil, cfg)
				if err != nil {
					b.Fatal(err)
				}
				idx := []int{1, 50, 7, 99, 200, 13, 7, 250, 42, 180}
				wt := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}
				b.ResetTimer()
				for k := 0; k < b.N; k++ {
					tr.host.Step(idx, wt, 0.01)
				}
			})
		}
	}
}
