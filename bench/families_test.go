package bench

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// wideSet is the AVX2 issue's hashing shape: one hidden layer of 1024 on 90
// inputs (P = 94 209).
func wideSet(b *testing.B, n int) (*data.Dataset, *nn.MLP) {
	d, err := data.Teacher(data.TeacherConfig{N: n, D: 90, Hidden: 32, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m, err := nn.New(nn.Config{In: 90, Out: 1, Hidden: []int{1024}, Activation: nn.ReLU, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return d, m
}

// BenchmarkHashFamily compares the layer-structured and the dense
// projection families at the same K·L = 128 on the 90-1024-1 network: a full
// rehash (two passes, MIPS on) of 2048 points, per backend.
func BenchmarkHashFamily(b *testing.B) {
	const n = 2048
	d, m := wideSet(b, n)
	for _, be := range backends(b) {
		for _, fam := range []ntk.Family{ntk.Structured, ntk.Dense} {
			cfg := engine.DefaultConfig().Hash
			cfg.K, cfg.L, cfg.Family = 2, 64, fam
			h, err := ntk.NewHasher(m, cfg)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/%s", be.Name(), fam), func(b *testing.B) {
				var lin *ntk.Linearization
				for i := 0; i < b.N; i++ {
					lin = ntk.Rehash(be, m, d.X, d.Y, n, h, ntk.RehashOptions{}, lin)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// BenchmarkRehashCores measures the structured rehash of the 90-1024-1
// network with GOMAXPROCS 1 and 2 (rehash workers and GEMM threads follow
// it), per backend.
func BenchmarkRehashCores(b *testing.B) {
	const n = 8192
	d, m := wideSet(b, n)
	cfg := engine.DefaultConfig().Hash
	h, err := ntk.NewHasher(m, cfg)
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range backends(b) {
		for _, procs := range []int{1, 2} {
			if procs > runtime.NumCPU() {
				continue
			}
			b.Run(fmt.Sprintf("%s/procs=%d", be.Name(), procs), func(b *testing.B) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				var lin *ntk.Linearization
				for i := 0; i < b.N; i++ {
					lin = ntk.Rehash(be, m, d.X, d.Y, n, h, ntk.RehashOptions{Workers: procs}, lin)
				}
				b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "points/s")
			})
		}
	}
}

// trainN trains m on d for b.N iterations with the sampler (engine
// defaults otherwise, lr 0.002, evaluations only at the start and the end),
// timing from the start of Train.
func trainN(b *testing.B, be kernels.Backend, m *nn.MLP, d *data.Dataset, sampler string) *engine.Result {
	cfg := engine.DefaultConfig()
	cfg.Sampler, cfg.Iters, cfg.DiagSubset, cfg.EvalEvery, cfg.LR = sampler, b.N, 0, b.N+1, 0.002
	tr, err := engine.NewTrainer(be, m, d, nil, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	res, err := tr.Train(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return res
}

// BenchmarkTrainLSHWide measures lsh training iterations/s on the 90-1024-1
// network (P = 94 209) with 20 000 points, batch 32, rehash every epoch
// (625 iterations; run it with -benchtime 1250x for two rehashes), per
// backend.
func BenchmarkTrainLSHWide(b *testing.B) {
	d, _ := wideSet(b, 20_000)
	for _, be := range backends(b) {
		b.Run(be.Name(), func(b *testing.B) {
			_, m := wideSet(b, 1)
			res := trainN(b, be, m, d, engine.SamplerLSH)
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "iters/s")
			if res.Final.Rehashes > 0 {
				b.ReportMetric(float64(d.N*res.Final.Rehashes)/res.Final.RehashSeconds, "rehash-points/s")
			}
		})
	}
}

// BenchmarkTrainWidth1024 measures training iterations/s at the shape of
// the large-scale convergence experiment: 16-1024-1 ReLU (P = 18 433),
// batch 32, 20 000 teacher points, per backend and sampler; lsh and
// ntk-static rehash once at the start (included; run it with -benchtime
// 2000x so that all runs do the same work). Both metrics count training
// seconds only (the start and end evaluations over all points excluded);
// step-µs also excludes the rehash.
func BenchmarkTrainWidth1024(b *testing.B) {
	d, err := data.Teacher(data.TeacherConfig{N: 20_000, D: 16, Hidden: 32, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, be := range backends(b) {
		for _, s := range []string{engine.SamplerUniform, engine.SamplerNTKStatic, engine.SamplerLSH} {
			b.Run(fmt.Sprintf("%s/%s", be.Name(), s), func(b *testing.B) {
				m, err := nn.New(nn.Config{In: 16, Out: 1, Hidden: []int{1024}, Activation: nn.ReLU, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				f := trainN(b, be, m, d, s).Final
				b.ReportMetric(float64(b.N)/f.TrainSeconds, "iters/s")
				b.ReportMetric((f.TrainSeconds-f.RehashSeconds)/float64(b.N)*1e6, "step-µs")
			})
		}
	}
}
