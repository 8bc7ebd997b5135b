package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

// cheapHash is one hashing configuration of the cheap-hashing study: the
// engine default (re-centred, K = 1, L = 64, structured) with another
// family, density or number of tables.
type cheapHash struct {
	name    string
	family  ntk.Family
	l       int
	density float64
}

var cheapHashes = []cheapHash{
	{"structured-L64", ntk.Structured, 64, 0},
	{"structured-L32", ntk.Structured, 32, 0},
	{"structured-L16", ntk.Structured, 16, 0},
	{"sparse-d32-L64", ntk.Sparse, 64, 1.0 / 32},
	{"sparse-d32-L32", ntk.Sparse, 32, 1.0 / 32},
	{"sparse-d8-L64", ntk.Sparse, 64, 1.0 / 8},
}

func (c cheapHash) config() ntk.HashConfig {
	h := engine.DefaultConfig().Hash
	h.Family, h.L, h.Density = c.family, c.l, c.density
	return h
}

func width1024(b *testing.B, n int) (*data.Dataset, *nn.MLP) {
	d, err := data.Teacher(data.TeacherConfig{N: n, D: 16, Hidden: 32, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.New(nn.Config{In: 16, Out: 1, Hidden: []int{1024}, Activation: nn.ReLU, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return d, m
}

// BenchmarkRehashWidth1024 measures a full rehash of 8192 points on the
// 16-1024-1 network (P = 18 433) for each cheap-hashing configuration and
// without a hasher ("norms": what ntk-static and ntk-drift need), on the
// first backend. Run with -count so that the configurations interleave.
func BenchmarkRehashWidth1024(b *testing.B) {
	const n = 8192
	d, m := width1024(b, n)
	be := backends(b)[0]
	run := func(name string, h *ntk.Hasher) {
		b.Run(name, func(b *testing.B) {
			var lin *ntk.Linearization
			for i := 0; i < b.N; i++ {
				lin = ntk.Rehash(be, m, d.X, d.Y, n, h, ntk.RehashOptions{}, lin)
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(n*b.N)*1e6, "µs/point")
		})
	}
	run("norms", nil)
	for _, c := range cheapHashes {
		h, err := ntk.NewHasher(m, c.config())
		if err != nil {
			b.Fatal(err)
		}
		run(c.name, h)
	}
}

// BenchmarkStepWidth1024 measures the training step (sampling included,
// the one rehash at the start excluded) at 16-1024-1, batch 32, 20 000
// points, on the first backend, for uniform, ntk-static, ntk-drift and lsh
// with each cheap-hashing configuration. Run with -benchtime 1000x -count
// N so that the samplers interleave.
func BenchmarkStepWidth1024(b *testing.B) {
	d, _ := width1024(b, 20_000)
	be := backends(b)[0]
	type run struct {
		name, sampler string
		hash          ntk.HashConfig
		queryEvery    int
	}
	runs := []run{{"uniform", engine.SamplerUniform, engine.DefaultConfig().Hash, 0}, {"ntk-static", engine.SamplerNTKStatic, engine.DefaultConfig().Hash, 0},
		{"ntk-drift", engine.SamplerNTKDrift, engine.DefaultConfig().Hash, 0}}
	for _, c := range cheapHashes {
		runs = append(runs, run{"lsh-" + c.name, engine.SamplerLSH, c.config(), 0})
	}
	// Query reuse (--query-every 8): a query per 8 minibatches.
	runs = append(runs, run{"lsh-" + cheapHashes[0].name + "-q8", engine.SamplerLSH, cheapHashes[0].config(), 8},
		run{"lsh-" + cheapHashes[4].name + "-q8", engine.SamplerLSH, cheapHashes[4].config(), 8})
	for _, r := range runs {
		b.Run(r.name, func(b *testing.B) {
			_, m := width1024(b, 1)
			cfg := engine.DefaultConfig()
			cfg.Sampler, cfg.Hash, cfg.Iters, cfg.DiagSubset, cfg.EvalEvery, cfg.LR = r.sampler, r.hash, b.N, 0, b.N+1, 0.002
			cfg.QueryEvery = r.queryEvery
			cfg.RehashEvery = b.N + 1
			tr, err := engine.NewTrainer(be, m, d, nil, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			res, err := tr.Train(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			f := res.Final
			b.ReportMetric((f.TrainSeconds-f.RehashSeconds)/float64(b.N)*1e6, "step-µs")
			b.ReportMetric(f.RehashSeconds*1e3, "rehash-ms")
		})
	}
}

// BenchmarkDrawWidth1024 measures one minibatch's sampling (B = 32) at
// 16-1024-1 over 20 000 points, away from the rehash point: what a sampler
// adds to a uniform step (the query hash and table preparation for lsh,
// |w − w0| for ntk-drift), on the first backend.
func BenchmarkDrawWidth1024(b *testing.B) {
	const n = 20_000
	d, m := width1024(b, n)
	be := backends(b)[0]
	passes := ntk.NewPasses(be, m, d.X, d.Y, n, 256, 1)
	params := append([]float32(nil), m.Params...)
	for i := range params {
		params[i] += 1e-3 * float32(i%7-3)
	}
	type run struct {
		name, sampler string
		hash          ntk.HashConfig
	}
	runs := []run{{"uniform", engine.SamplerUniform, engine.DefaultConfig().Hash}, {"ntk-static", engine.SamplerNTKStatic, engine.DefaultConfig().Hash},
		{"ntk-drift", engine.SamplerNTKDrift, engine.DefaultConfig().Hash}}
	for _, c := range cheapHashes {
		runs = append(runs, run{"lsh-" + c.name, engine.SamplerLSH, c.config()})
	}
	for _, r := range runs {
		var h *ntk.Hasher
		if r.sampler == engine.SamplerLSH {
			var err error
			if h, err = ntk.NewHasher(m, r.hash); err != nil {
				b.Fatal(err)
			}
		}
		s, err := sample.New(r.sampler, sample.Options{N: n, Eps: 0.1, Prob: sample.ProbExact, Backend: be, Model: m, Hasher: h, Scorer: passes})
		if err != nil {
			b.Fatal(err)
		}
		if sample.NeedsLinearization(s) {
			lin := ntk.Rehash(be, m, d.X, d.Y, n, h, ntk.RehashOptions{}, nil)
			if err := s.Refit(lin); err != nil {
				b.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		idx, w := make([]int, 32), make([]float64, 32)
		b.Run(r.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if err := s.Draw(rng, params, idx, w); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRehashPackedWeights measures a full rehash of 8192 points with
// the weights packed once per rehash (nn.PackWeights, the default) against
// packed per product, on 16-1024-1 (the time-to-target models: the packed
// weights are the first layer's 1024 × 16 and the output layer's 1 × 1024
// for the backward) and 16-1024-1024-1 (P ≈ 1.07 M:
// its 1024 × 1024 layer is the rehash's 256 × 1024 × 1024 forward and
// backward products), norms only and with the default hasher, on the first
// backend. The pairs sub-benchmarks run the two back to back in every
// iteration (alternating which goes first) and report the median of the
// per-pair time ratios, which this VM's drifts between processes and
// minutes do not move; the others time each alone (µs per point).
func BenchmarkRehashPackedWeights(b *testing.B) {
	const n = 8192
	d, _ := width1024(b, n)
	be := backends(b)[0]
	for _, hidden := range [][]int{{1024}, {1024, 1024}} {
		m, err := nn.New(nn.Config{In: 16, Out: 1, Hidden: hidden, Activation: nn.ReLU, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		h, err := ntk.NewHasher(m, engine.DefaultConfig().Hash)
		if err != nil {
			b.Fatal(err)
		}
		net := fmt.Sprint(len(hidden), "x1024")
		for _, hc := range []struct {
			name string
			h    *ntk.Hasher
		}{{"norms", nil}, {"hashed", h}} {
			rehash := func(lin *ntk.Linearization) *ntk.Linearization {
				return ntk.Rehash(be, m, d.X, d.Y, n, hc.h, ntk.RehashOptions{}, lin)
			}
			b.Run(net+"/"+hc.name+"/pairs", func(b *testing.B) {
				lin := rehash(nil)
				var ratios []float64
				for i := 0; b.Loop(); i++ {
					var t [2]float64 // packed, per product
					for j := 0; j < 2; j++ {
						packed := (i+j)%2 == 0
						restore := nn.SetWeightPacking(packed)
						t0 := time.Now()
						lin = rehash(lin)
						if packed {
							t[0] = time.Since(t0).Seconds()
						} else {
							t[1] = time.Since(t0).Seconds()
						}
						restore()
					}
					ratios = append(ratios, t[0]/t[1])
				}
				slices.Sort(ratios)
				b.ReportMetric(ratios[len(ratios)/2], "packed/per-product")
			})
			for _, packed := range []bool{true, false} {
				b.Run(fmt.Sprintf("%s/%s/packed=%v", net, hc.name, packed), func(b *testing.B) {
					defer nn.SetWeightPacking(packed)()
					lin := rehash(nil) // warm: the panels' memory
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						lin = rehash(lin)
					}
					b.ReportMetric(b.Elapsed().Seconds()/float64(n*b.N)*1e6, "µs/point")
				})
			}
		}
	}
}
