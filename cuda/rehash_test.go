//go:build cuda

package cuda

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// Tolerances of the Rehasher against ntk.Rehash on kernels.Generic
// (documented in RESULTS.md):
//   - per-point values (ANorm, B, F0, GradNorm0, AHash, BHash):
//     |gpu − cpu| ≤ rehashTol·(|cpu| + floor), floor the RMS of the terms
//     the value is computed from (see each check); YSum exactly equal;
//   - raw projections R·a_i: ‖gpu − cpu‖/‖cpu‖ ≤ rehashTol (Frobenius);
//   - codes: every differing bit must have a CPU finished projection within
//     bitMargin·(RMS of its row) of 0, and at most maxFlipFrac of all bits
//     may differ; device-finished and host-finished codes of the same
//     device projections must be identical.
const (
	rehashTol   = 1e-4
	bitMargin   = 1e-3
	maxFlipFrac = 1e-3
)

func randBiases(m *nn.MLP, rng *rand.Rand) {
	for l := 1; l <= m.Layers(); l++ {
		for i := range m.B(l) {
			m.B(l)[i] = float32(0.3 * rng.NormFloat64())
		}
	}
}

// cpuProjections recomputes, on kernels.Generic and exactly as
// ntk.Rehash's structured projector does, the raw projections R·a_i of
// every point (n × K·L) and the finished (pre-sign) values that
// Hasher.FinishCodes derives from them with ref's linearization and its
// scale ref.M. It checks that the finished values' signs
// reproduce ref.Codes bit for bit, which validates the recomputation.
func cpuProjections(t *testing.T, m *nn.MLP, x []float32, n int, h *ntk.Hasher, ref *ntk.Linearization, batch int) (raw, finished []float32) {
	t.Helper()
	be := kernels.Generic
	pr := h.Projections()
	kl := h.Cfg.K * h.Cfg.L
	raw = make([]float32, n*kl)
	b := m.NewBatch(batch)
	pd, ph := make([]float32, batch*kl), make([]float32, batch*kl)
	for lo := 0; lo < n; lo += batch {
		cnt := min(batch, n-lo)
		b.Forward(be, m.Params, x[lo*m.In:(lo+cnt)*m.In], cnt)
		b.BackwardOnes(be, m.Params)
		o := raw[lo*kl : (lo+cnt)*kl]
		for _, l := range pr.Layers {
			w, in := m.Sizes[l], m.Sizes[l-1]
			be.Sgemm(false, true, cnt, kl, w, 1, b.D[l], w, pr.U[l], w, 0, pd[:cnt*kl], kl)
			for i := 0; i < cnt; i++ {
				copy(ph[i*kl:(i+1)*kl], pr.Vb[l])
			}
			be.Sgemm(false, true, cnt, kl, in, 1, b.H[l-1], in, pr.Vh[l], in, 1, ph[:cnt*kl], kl)
			for i := range o {
				o[i] += pd[i] * ph[i]
			}
		}
	}
	finished = append([]float32(nil), raw...)
	lin := *ref
	lin.Codes = make([]uint32, len(ref.Codes))
	h.FinishCodes(be, finished, &lin, 0, n)
	for i := range lin.Codes {
		if lin.Codes[i] != ref.Codes[i] {
			t.Fatalf("test reference: recomputed codes differ from ntk.Rehash's at %d (%#x vs %#x); the reference no longer follows the engine", i, lin.Codes[i], ref.Codes[i])
		}
	}
	return raw, finished
}

func rms(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x * x
	}
	return math.Sqrt(s / float64(max(len(v), 1)))
}

// checkClose checks |got − want| ≤ rehashTol·(|want| + floor) elementwise
// and logs the largest error relative to that bound.
func checkClose(t *testing.T, name string, got, want []float64, floor float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d values, want %d", name, len(got), len(want))
		return
	}
	worst, bad := 0.0, 0
	for i := range want {
		e := math.Abs(got[i]-want[i]) / (math.Abs(want[i]) + floor)
		if !(e <= rehashTol) {
			if bad < 3 {
				t.Errorf("%s[%d] = %g, want %g (error %.3g of scale, tolerance %g)", name, i, got[i], want[i], e, rehashTol)
			}
			bad++
		}
		if e > worst || math.IsNaN(e) {
			worst = e
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d values out of tolerance", name, bad, len(want))
	}
	t.Logf("%-10s max |gpu−cpu|/(|cpu|+%.3g) = %.3g", name, floor, worst)
}

// compareCodes counts differing bits and those whose CPU finished
// projection is not within bitMargin·RMS(row) of 0.
func compareCodes(t *testing.T, got, want []uint32, finished []float32, n, k, l int) {
	t.Helper()
	kl := k * l
	flips, far := 0, 0
	for i := 0; i < n; i++ {
		row := finished[i*kl : (i+1)*kl]
		s := 0.0
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		r := math.Sqrt(s / float64(kl))
		for tb := 0; tb < l; tb++ {
			diff := got[i*l+tb] ^ want[i*l+tb]
			for j := 0; j < k; j++ {
				if diff>>j&1 == 0 {
					continue
				}
				flips++
				v := float64(row[tb*k+j])
				if math.Abs(v) > bitMargin*r {
					if far < 5 {
						t.Errorf("point %d table %d bit %d differs; CPU projection %g is not near 0 (row RMS %g)", i, tb, j, v, r)
					}
					far++
				}
			}
		}
	}
	total := n * kl
	if far > 0 {
		t.Errorf("%d differing bits have CPU projections beyond %g·RMS from 0", far, bitMargin)
	}
	if float64(flips) > maxFlipFrac*float64(total) {
		t.Errorf("%d of %d bits differ (more than %g)", flips, total, maxFlipFrac)
	}
	t.Logf("codes: %d of %d bits differ from the CPU's (all within %g·RMS of 0: %v)", flips, total, bitMargin, far == 0)
}

func TestRehashMatchesEngine(t *testing.T) {
	be := gpu(t)
	hc := func(mips bool, q ntk.QueryMode, lastOnly bool) *ntk.HashConfig {
		return &ntk.HashConfig{K: 2, L: 64, Family: ntk.Structured, MIPS: mips, Query: q, Alpha: 0.01,
			SignSymmetric: true, LastLayerOnly: lastOnly, Seed: 7}
	}
	cases := []struct {
		name      string
		hidden    []int
		act       nn.Activation
		out       int
		hash      *ntk.HashConfig
		recompute bool
	}{
		{"relu16-out1-mips-paper", []int{16}, nn.ReLU, 1, hc(true, ntk.QueryPaper, false), false},
		{"tanh24x16-out3-mips-recentred", []int{24, 16}, nn.Tanh, 3, hc(true, ntk.QueryRecentred, false), false},
		{"tanh32-out1-nomips-paper-lastonly", []int{32}, nn.Tanh, 1, hc(false, ntk.QueryPaper, true), false},
		{"relu20x12-out3-mips-paper-lastonly-recompute", []int{20, 12}, nn.ReLU, 3, hc(true, ntk.QueryPaper, true), true},
		{"relu40-out1-nomips-recentred-recompute", []int{40}, nn.ReLU, 1, hc(false, ntk.QueryRecentred, false), true},
		{"tanh8x8-out3-mips-recentred-lastonly", []int{8, 8}, nn.Tanh, 3, &ntk.HashConfig{K: 5, L: 7, Family: ntk.Structured, MIPS: true, Query: ntk.QueryRecentred, Alpha: 0.3, LastLayerOnly: true, Seed: 9}, false},
		{"linear-out1-mips-paper", nil, nn.ReLU, 1, hc(true, ntk.QueryPaper, false), false},
		{"relu16-out1-nohash", []int{16}, nn.ReLU, 1, nil, false},
		{"tanh16x8-out3-nohash", []int{16, 8}, nn.Tanh, 3, nil, false},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			const n, in, cpuBatch, gpuBatch = 1000, 7, 64, 96
			rng := rand.New(rand.NewPCG(uint64(ci)+100, 5))
			m, err := nn.New(nn.Config{In: in, Out: c.out, Hidden: c.hidden, Activation: c.act, Seed: uint64(ci) + 1})
			if err != nil {
				t.Fatal(err)
			}
			randBiases(m, rng)
			x, y := randSlice(rng, n*in), randSlice(rng, n*c.out)
			var h *ntk.Hasher
			if c.hash != nil {
				if h, err = ntk.NewHasher(m, *c.hash); err != nil {
					t.Fatal(err)
				}
			}
			ref := ntk.Rehash(kernels.Generic, m, x, y, n, h, ntk.RehashOptions{Batch: cpuBatch, Workers: 2}, nil)
			var raw, finished []float32
			if h != nil {
				raw, finished = cpuProjections(t, m, x, n, h, ref, cpuBatch)
			}
			r, err := NewRehasher(be, m, x, y, n, gpuBatch)
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			}()
			r.ForceRecompute = c.recompute
			// Poison a reused linearization: every value must be written.
			lin := &ntk.Linearization{N: n, ANorm: make([]float64, n), B: make([]float64, n), F0: make([]float64, n),
				YSum: make([]float64, n), GradNorm0: make([]float64, n)}
			for _, s := range [][]float64{lin.ANorm, lin.B, lin.F0, lin.YSum, lin.GradNorm0} {
				fill(s, math.NaN())
			}
			if h != nil {
				lin.Codes = make([]uint32, n*h.Cfg.L)
				fill(lin.Codes, 0xdeadbeef)
			}
			got, err := r.Rehash(m, h, lin)
			if err != nil {
				t.Fatal(err)
			}
			if got != lin {
				t.Errorf("Rehash did not reuse the linearization it was given")
			}
			if h != nil && r.Resident() == c.recompute {
				t.Errorf("Resident() = %v with ForceRecompute = %v", r.Resident(), c.recompute)
			}
			checkLin(t, got, ref, c.out)
			if h == nil {
				if got.Codes != nil {
					t.Errorf("codes without a hasher")
				}
				return
			}
			if math.Abs(got.M-ref.M) > rehashTol*ref.M {
				t.Errorf("M %g, want %g", got.M, ref.M)
			}
			compareCodes(t, got.Codes, ref.Codes, finished, n, h.Cfg.K, h.Cfg.L)
			kl := h.Cfg.K * h.Cfg.L
			if r.Resident() {
				dev := make([]float32, n*kl)
				fill(dev, float32(math.NaN()))
				if err := r.DownloadProjections(dev, 0, n); err != nil {
					t.Fatal(err)
				}
				e := relErr(n, kl, dev, raw, kl)
				if !ok(e, rehashTol) {
					t.Errorf("raw projections: ‖gpu−cpu‖/‖cpu‖ = %.3g > %g", e, rehashTol)
				}
				t.Logf("raw projections: ‖gpu−cpu‖/‖cpu‖ = %.3g", e)
			}
			// The same rehash finished on the host: identical results.
			devCodes := append([]uint32(nil), got.Codes...)
			devLin := *got
			devLin.ANorm = append([]float64(nil), got.ANorm...)
			r.HostFinish = true
			fill(got.Codes, 0xdeadbeef)
			got2, err := r.Rehash(m, h, got)
			if err != nil {
				t.Fatal(err)
			}
			diff := 0
			for i := range devCodes {
				if devCodes[i] != got2.Codes[i] {
					diff++
				}
			}
			if diff != 0 {
				t.Errorf("host-finished codes differ from device-finished ones in %d of %d codes", diff, len(devCodes))
			}
			for i := range devLin.ANorm {
				if devLin.ANorm[i] != got2.ANorm[i] {
					t.Errorf("ANorm[%d] changed between two rehashes of the same model: %g, %g", i, devLin.ANorm[i], got2.ANorm[i])
					break
				}
			}
		})
	}
}

func checkLin(t *testing.T, got, ref *ntk.Linearization, out int) {
	t.Helper()
	n := ref.N
	if len(got.W0) != len(ref.W0) {
		t.Fatalf("W0 has %d values, want %d", len(got.W0), len(ref.W0))
	}
	for i := range ref.W0 {
		if got.W0[i] != ref.W0[i] {
			t.Fatalf("W0[%d] = %g, want %g", i, got.W0[i], ref.W0[i])
		}
	}
	for i := 0; i < n; i++ {
		if got.YSum[i] != ref.YSum[i] {
			t.Fatalf("YSum[%d] = %g, want %g exactly", i, got.YSum[i], ref.YSum[i])
		}
	}
	aw := make([]float64, n) // a_i·w0 = F0 − B
	for i := range aw {
		aw[i] = ref.F0[i] - ref.B[i]
	}
	checkClose(t, "ANorm", got.ANorm, ref.ANorm, rms(ref.ANorm))
	checkClose(t, "F0", got.F0, ref.F0, rms(ref.F0))
	checkClose(t, "B", got.B, ref.B, rms(ref.B)+rms(aw))
	gnFloor := rms(ref.GradNorm0)
	if out == 1 {
		gnFloor += rms(ref.ANorm) * (rms(ref.F0) + rms(ref.YSum))
	}
	checkClose(t, "GradNorm0", got.GradNorm0, ref.GradNorm0, gnFloor)
	lastOnly := n > 0 && len(ref.BHash) == n && &ref.BHash[0] != &ref.B[0]
	if lastOnly {
		if &got.BHash[0] == &got.B[0] || &got.AHash[0] == &got.ANorm[0] {
			t.Fatalf("LastLayerOnly: BHash/AHash alias B/ANorm")
		}
		awh := make([]float64, n)
		for i := range awh {
			awh[i] = ref.F0[i] - ref.BHash[i]
		}
		checkClose(t, "AHash", got.AHash, ref.AHash, rms(ref.AHash))
		checkClose(t, "BHash", got.BHash, ref.BHash, rms(ref.BHash)+rms(awh))
	} else if len(got.BHash) != n || &got.BHash[0] != &got.B[0] || &got.AHash[0] != &got.ANorm[0] {
		t.Errorf("without LastLayerOnly BHash/AHash must be B/ANorm")
	}
}

func TestRehasherRejects(t *testing.T) {
	be := gpu(t)
	rng := rand.New(rand.NewPCG(3, 3))
	m, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{8}, Activation: nn.ReLU, Seed: 1})
	x, y := randSlice(rng, 50*4), randSlice(rng, 50)
	r, err := NewRehasher(be, m, x, y, 50, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	hd, err := ntk.NewHasher(m, ntk.HashConfig{K: 2, L: 4, Family: ntk.Dense, MIPS: true, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rehash(m, hd, nil); err == nil || !strings.Contains(err.Error(), "dense") {
		t.Errorf("dense family: err = %v, want a 'not supported' error naming dense", err)
	}
	other, _ := nn.New(nn.Config{In: 4, Out: 1, Hidden: []int{9}, Activation: nn.ReLU, Seed: 1})
	if _, err := r.Rehash(other, nil, nil); err == nil {
		t.Errorf("model of another shape accepted")
	}
	if _, err := NewRehasher(be, m, x[:10], y, 50, 16); err == nil {
		t.Errorf("short x accepted")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rehash(m, nil, nil); err == nil {
		t.Errorf("Rehash after Close accepted")
	}
}

// countingLinearizer counts the calls of a Linearizer.
type countingLinearizer struct {
	ntk.Linearizer
	calls *int
}

func (c countingLinearizer) Linearize(params []float32, h *ntk.Hasher, lin *ntk.Linearization) (*ntk.Linearization, error) {
	*c.calls++
	return c.Linearizer.Linearize(params, h, lin)
}

// TestRehasherTrains runs engine.Trainer with Linearizer set to a
// Rehasher for the lsh and ntk-static samplers and checks that every
// rehash went to the device, that training lowers the loss, and that the
// result is close to the same run with the CPU rehash.
func TestRehasherTrains(t *testing.T) {
	be := gpu(t)
	ds, err := data.Teacher(data.TeacherConfig{N: 2000, D: 8, Hidden: 16, O: 1, TailDOF: 3, Noise: 0.1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{engine.SamplerLSH, engine.SamplerNTKStatic} {
		cfg := engine.DefaultConfig()
		cfg.Sampler, cfg.Iters, cfg.Batch, cfg.LR, cfg.DiagSubset, cfg.EvalEvery = s, 400, 16, 0.05, 200, 100
		run := func(onGPU bool) (*engine.Result, int) {
			m, err := nn.New(nn.Config{In: 8, Out: 1, Hidden: []int{32}, Activation: nn.ReLU, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			tr, err := engine.NewTrainer(kernels.Generic, m, ds, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			if onGPU {
				r, err := NewRehasher(be, m, ds.X, ds.Y, ds.N, 256)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				tr.Linearizer = countingLinearizer{r, &calls}
			}
			res, err := tr.Train(context.Background())
			if err != nil {
				t.Fatalf("%s (gpu %v): %v", s, onGPU, err)
			}
			return res, calls
		}
		cpu, _ := run(false)
		gpuRes, calls := run(true)
		first, last := gpuRes.Evals[0], gpuRes.Final
		t.Logf("%s: gpu rehash: loss %.4g -> %.4g, 2nd-moment ratio %.3g, %d rehashes on the device; cpu rehash: loss %.4g, ratio %.3g",
			s, first.TrainLoss, last.TrainLoss, last.SecondMoment, calls, cpu.Final.TrainLoss, cpu.Final.SecondMoment)
		if calls < 3 || calls != last.Rehashes {
			t.Errorf("%s: %d Linearize calls, %d rehashes reported (want equal, ≥ 3)", s, calls, last.Rehashes)
		}
		if !(last.TrainLoss < 0.7*first.TrainLoss) {
			t.Errorf("%s: train loss %g -> %g did not fall by 30%%", s, first.TrainLoss, last.TrainLoss)
		}
		if !(last.TrainLoss < 1.3*cpu.Final.TrainLoss && cpu.Final.TrainLoss < 1.3*last.TrainLoss) {
			t.Errorf("%s: final train loss %g with the GPU rehash, %g with the CPU's: not within 30%%", s, last.TrainLoss, cpu.Final.TrainLoss)
		}
		if s == engine.SamplerNTKStatic && !(last.SecondMoment < 1) {
			t.Errorf("ntk-static with the GPU rehash: second-moment ratio %g, want < 1", last.SecondMoment)
		}
	}
}
