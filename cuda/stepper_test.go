//go:build cuda

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// Tolerances of the Stepper against the host engine (kernels.Generic):
//   - the weighted minibatch loss of every step: relative stepTol;
//   - the parameters after the steps: |gpu − cpu| ≤ stepTol·(|cpu| + rms(cpu));
//   - the raw query projections: |gpu − ref| ≤ stepTol·(|ref| + rms(ref)),
//     ref computed in float64 from the same float32 w (or w − w0).
const stepTol = 1e-5

// hostStep is the engine's minibatchGrad + Axpy step on kernels.Generic.
func hostStep(m *nn.MLP, b *nn.Batch, x, y []float32, idx []int, w []float64, lr float64) float64 {
	be := kernels.Generic
	B := len(idx)
	in, out := m.In, m.Out
	xb, yb := make([]float32, B*in), make([]float32, B*out)
	for k, i := range idx {
		copy(xb[k*in:(k+1)*in], x[i*in:(i+1)*in])
		copy(yb[k*out:(k+1)*out], y[i*out:(i+1)*out])
	}
	b.Forward(be, m.Params, xb, B)
	f := b.Output()
	dOut := make([]float32, B*out)
	loss := 0.0
	for k := 0; k < B; k++ {
		s := w[k] / float64(B)
		var l float64
		for o := 0; o < out; o++ {
			r := f[k*out+o] - yb[k*out+o]
			l += 0.5 * float64(r) * float64(r)
			dOut[k*out+o] = float32(s) * r
		}
		loss += s * l
	}
	b.Backward(be, m.Params, dOut)
	grad := make([]float32, m.NumParams())
	b.AccumulateGrad(be, grad)
	be.Axpy(float32(-lr), grad, m.Params)
	return loss
}

// refQuery computes the structured projections of v in float64.
func refQuery(m *nn.MLP, h *ntk.Hasher, v []float32) []float64 {
	pr := h.Projections()
	kl := h.Cfg.K * h.Cfg.L
	out := make([]float64, kl)
	for _, l := range pr.Layers {
		w, in := m.Sizes[l], m.Sizes[l-1]
		W, bias := m.WOf(v, l), m.BOf(v, l)
		for j := 0; j < kl; j++ {
			for i := 0; i < w; i++ {
				t := float64(pr.Vb[l][j]) * float64(bias[i])
				for k := 0; k < in; k++ {
					t += float64(pr.Vh[l][j*in+k]) * float64(W[i*in+k])
				}
				out[j] += float64(pr.U[l][j*w+i]) * t
			}
		}
	}
	return out
}

func rms64(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s / float64(max(len(v), 1)))
}

func checkQuery(t *testing.T, name string, got []float32, want []float64) {
	t.Helper()
	floor := rms64(want)
	worst := 0.0
	for j := range want {
		e := math.Abs(float64(got[j])-want[j]) / (math.Abs(want[j]) + floor)
		if !(e <= stepTol) {
			t.Errorf("%s: projection %d = %g, want %g (error %.3g, tolerance %g)", name, j, got[j], want[j], e, stepTol)
			return
		}
		worst = math.Max(worst, e)
	}
	t.Logf("%s: max query error %.3g", name, worst)
}

func TestStepperMatchesHost(t *testing.T) {
	be := gpu(t)
	cases := []struct {
		hidden []int
		act    nn.Activation
		out    int
	}{
		{[]int{16}, nn.ReLU, 1},
		{[]int{24}, nn.Tanh, 3},
		{[]int{16, 12}, nn.ReLU, 3},
		{[]int{20, 9}, nn.Tanh, 1},
	}
	const n, in, maxB = 300, 5, 32
	for ci, c := range cases {
		rng := rand.New(rand.NewPCG(uint64(ci), 9))
		m, err := nn.New(nn.Config{In: in, Out: c.out, Hidden: c.hidden, Activation: c.act, Seed: uint64(ci + 1)})
		if err != nil {
			t.Fatal(err)
		}
		randBiases(m, rng)
		x, y := randSlice(rng, n*in), randSlice(rng, n*c.out)
		var s *Stepper
		if ci%2 == 0 {
			s, err = NewStepper(be, m, x, y, n, maxB)
		} else {
			r, rerr := NewRehasher(be, m, x, y, n, 64)
			if rerr != nil {
				t.Fatal(rerr)
			}
			defer r.Close()
			s, err = NewStepperWith(r, m, maxB)
		}
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Upload(m.Params); err != nil {
			t.Fatal(err)
		}
		host := m.Clone()
		hb := host.NewBatch(maxB)
		for step := 0; step < 6; step++ {
			B := maxB
			if step == 3 {
				B = 7
			}
			idx, w := make([]int, B), make([]float64, B)
			for k := range idx {
				idx[k] = rng.IntN(n)
				w[k] = 0.5 + 2.5*rng.Float64()
			}
			want := hostStep(host, hb, x, y, idx, w, 0.05)
			got, _, err := s.Step(idx, w, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			if e := math.Abs(got-want) / math.Abs(want); !(e <= stepTol) {
				t.Errorf("case %d step %d: loss %g, host %g (rel %.3g)", ci, step, got, want, e)
			}
		}
		dev := make([]float32, m.NumParams())
		if err := s.Download(dev); err != nil {
			t.Fatal(err)
		}
		hp := make([]float64, len(dev))
		for i, v := range host.Params {
			hp[i] = float64(v)
		}
		floor := rms64(hp)
		worst := 0.0
		for i, v := range host.Params {
			e := math.Abs(float64(dev[i]-v)) / (math.Abs(float64(v)) + floor)
			if !(e <= stepTol) {
				t.Fatalf("case %d: parameter %d = %g, host %g (error %.3g)", ci, i, dev[i], v, e)
			}
			worst = math.Max(worst, e)
		}
		moved := 0.0
		for i, v := range host.Params {
			moved = math.Max(moved, math.Abs(float64(v-m.Params[i])))
		}
		t.Logf("case %d %v %v out=%d: params after 6 steps max error %.3g (max move %.3g)", ci, c.hidden, c.act, c.out, worst, moved)
		if moved == 0 {
			t.Errorf("case %d: the steps did not move the parameters", ci)
		}

		// Queries at the device parameters (= dev).
		for _, q := range []ntk.QueryMode{ntk.QueryPaper, ntk.QueryRecentred} {
			for _, lastOnly := range []bool{false, true} {
				h, err := ntk.NewHasher(m, ntk.HashConfig{K: 2, L: 8, Family: ntk.Structured, MIPS: true, Query: q,
					Alpha: 0.01, SignSymmetric: true, LastLayerOnly: lastOnly, Seed: 5})
				if err != nil {
					t.Fatal(err)
				}
				w0 := make([]float32, len(dev))
				for i := range w0 {
					w0[i] = dev[i] + float32(0.01*rng.NormFloat64())
				}
				v := dev
				if q == ntk.QueryRecentred {
					v = make([]float32, len(dev))
					for i := range v {
						v[i] = dev[i] - w0[i]
					}
				}
				proj := make([]float32, 16)
				if err := s.Query(h, w0, proj); err != nil {
					t.Fatal(err)
				}
				checkQuery(t, q.String(), proj, refQuery(m, h, v))
				if q == ntk.QueryRecentred {
					// w0 changed in place: seen after an Upload (as the
					// trainer's Download before a rehash).
					for i := range w0 {
						w0[i] = dev[i] + float32(0.02*rng.NormFloat64())
						v[i] = dev[i] - w0[i]
					}
					if err := s.Upload(dev); err != nil {
						t.Fatal(err)
					}
					if err := s.Query(h, w0, proj); err != nil {
						t.Fatal(err)
					}
					checkQuery(t, "recentred after w0 change", proj, refQuery(m, h, v))
					before := s.w0Uploads
					if err := s.Query(h, w0, proj); err != nil {
						t.Fatal(err)
					}
					if s.w0Uploads != before {
						t.Errorf("w0 uploaded again with nothing changed")
					}
				}
			}
		}
	}
	// Errors.
	m, _ := nn.New(nn.Config{In: 3, Out: 1, Hidden: []int{4}, Activation: nn.ReLU, Seed: 1})
	s, err := NewStepper(be, m, make([]float32, 30), make([]float32, 10), 10, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Step([]int{1, 2, 3, 4, 5}, make([]float64, 5), 0.1); err == nil {
		t.Error("minibatch over the capacity accepted")
	}
	if _, _, err := s.Step([]int{10}, []float64{1}, 0.1); err == nil {
		t.Error("index out of range accepted")
	}
	if err := s.Upload(make([]float32, 3)); err == nil {
		t.Error("short Upload accepted")
	}
	s.Close()
	if _, _, err := s.Step([]int{1}, []float64{1}, 0.1); err == nil {
		t.Error("Step after Close accepted")
	}
}

// TestStepperTrains runs engine.Trainer with Stepper set to a Stepper (and
// Linearizer to a Rehasher) for the uniform, lsh and ntk-static samplers
// and compares with the same run on the CPU: every step on the device, the
// loss falls by 30 %, and the final loss is within 30 % of the CPU run's.
func TestStepperTrains(t *testing.T) {
	be := gpu(t)
	for _, out := range []int{1, 3} {
		ds, err := data.Teacher(data.TeacherConfig{N: 2000, D: 8, Hidden: 16, O: out, TailDOF: 3, Noise: 0.1, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, smp := range []string{engine.SamplerUniform, engine.SamplerLSH, engine.SamplerNTKStatic} {
			cfg := engine.DefaultConfig()
			cfg.Sampler, cfg.Iters, cfg.Batch, cfg.LR, cfg.DiagSubset, cfg.EvalEvery = smp, 400, 16, 0.05, 200, 100
			run := func(onGPU bool) (*engine.Result, int) {
				m, err := nn.New(nn.Config{In: 8, Out: out, Hidden: []int{32}, Activation: nn.ReLU, Seed: 1})
				if err != nil {
					t.Fatal(err)
				}
				tr, err := engine.NewTrainer(kernels.Generic, m, ds, nil, cfg)
				if err != nil {
					t.Fatal(err)
				}
				var st *Stepper
				if onGPU {
					r, err := NewRehasher(be, m, ds.X, ds.Y, ds.N, 256)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					st, err = NewStepperWith(r, m, cfg.Batch)
					if err != nil {
						t.Fatal(err)
					}
					defer st.Close()
					tr.Linearizer = r
					tr.Stepper = st
				}
				res, err := tr.Train(context.Background())
				if err != nil {
					t.Fatalf("%s out=%d (gpu %v): %v", smp, out, onGPU, err)
				}
				if st != nil {
					return res, st.Steps()
				}
				return res, 0
			}
			cpu, _ := run(false)
			g, steps := run(true)
			first, last := g.Evals[0], g.Final
			t.Logf("%s out=%d: device: loss %.4g -> %.4g (%d device steps); cpu: %.4g -> %.4g",
				smp, out, first.TrainLoss, last.TrainLoss, steps, cpu.Evals[0].TrainLoss, cpu.Final.TrainLoss)
			if steps != cfg.Iters {
				t.Errorf("%s out=%d: %d device steps, want %d", smp, out, steps, cfg.Iters)
			}
			if !(last.TrainLoss < 0.7*first.TrainLoss) {
				t.Errorf("%s out=%d: train loss %g -> %g did not fall by 30%%", smp, out, first.TrainLoss, last.TrainLoss)
			}
			if !(last.TrainLoss < 1.3*cpu.Final.TrainLoss && cpu.Final.TrainLoss < 1.3*last.TrainLoss) {
				t.Errorf("%s out=%d: final train loss %g on the device, %g on the CPU: not within 30%%", smp, out, last.TrainLoss, cpu.Final.TrainLoss)
			}
		}
	}
}
