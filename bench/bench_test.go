package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/lsh"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// Sizes of the benchmarks: N points of the synthetic teacher set (16
// features), a 16-32-1 ReLU MLP, the engine's default hashing (K=2, L=64).
var sizes = []int{10_000, 100_000, 1_000_000}

const (
	features = 16
	hidden   = 32
)

var (
	dataMu sync.Mutex
	sets   = map[int]*data.Dataset{}
)

func dataset(b *testing.B, n int) *data.Dataset {
	dataMu.Lock()
	defer dataMu.Unlock()
	if d, ok := sets[n]; ok {
		return d
	}
	d, err := data.Teacher(data.TeacherConfig{N: n, D: features, Hidden: 32, O: 1, TailDOF: 3, Noise: 0.1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	sets[n] = d
	return d
}

func model(b *testing.B, width int) *nn.MLP {
	m, err := nn.New(nn.Config{In: features, Out: 1, Hidden: []int{width}, Activation: nn.ReLU, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

// backends returns the usable backends by name, best first, or only the one
// that NTKLSH_KERNELS names when it is set (so that the benchmarks that run
// on the first backend, such as StepWidth1024, can be pointed at avx2).
func backends(b *testing.B) []kernels.Backend {
	if os.Getenv(kernels.EnvVar) != "" {
		be, _, err := kernels.Default()
		if err != nil {
			b.Fatal(err)
		}
		return []kernels.Backend{be}
	}
	var out []kernels.Backend
	for _, name := range kernels.Names() {
		be, _, err := kernels.Select(name)
		if err == nil {
			out = append(out, be)
		}
	}
	if len(out) == 0 {
		b.Fatal("no usable kernel backend")
	}
	return out
}

func name(n int) string {
	switch n {
	case 10_000:
		return "N=1e4"
	case 100_000:
		return "N=1e5"
	case 1_000_000:
		return "N=1e6"
	}
	return fmt.Sprintf("N=%d", n)
}

// BenchmarkRehash measures a full rehash: linearization (forward, backward
// of the output, |a_i|, b_i) and the K·L structured projections and codes
// of every point; "linearize" is the same without a hasher.
func BenchmarkRehash(b *testing.B) {
	for _, be := range backends(b) {
		for _, n := range sizes {
			d := dataset(b, n)
			m := model(b, hidden)
			h, err := ntk.NewHasher(m, engine.DefaultConfig().Hash)
			if err != nil {
				b.Fatal(err)
			}
			for _, withHash := range []bool{false, true} {
				kind := "linearize"
				hh := h
				if withHash {
					kind = "hash"
				} else {
					hh = nil
				}
				b.Run(fmt.Sprintf("%s/%s/%s", be.Name(), kind, name(n)), func(b *testing.B) {
					var lin *ntk.Linearization
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						lin = ntk.Rehash(be, m, d.X, d.Y, n, hh, ntk.RehashOptions{}, lin)
					}
					s := b.Elapsed().Seconds()
					b.ReportMetric(float64(n*b.N)/s, "points/s")
					if withHash {
						b.ReportMetric(float64(n*b.N*h.Cfg.L)/s, "codes/s")
					}
				})
			}
		}
	}
}

// BenchmarkDraws measures lsh sampling from tables over N points: a query
// preparation (the non-empty buckets of q and −q) followed by 32 draws with
// their exact probabilities, as in one training iteration.
func BenchmarkDraws(b *testing.B) {
	be, _, err := kernels.Default()
	if err != nil {
		b.Fatal(err)
	}
	cfg := engine.DefaultConfig()
	for _, n := range sizes {
		d := dataset(b, n)
		m := model(b, hidden)
		h, err := ntk.NewHasher(m, cfg.Hash)
		if err != nil {
			b.Fatal(err)
		}
		lin := ntk.Rehash(be, m, d.X, d.Y, n, h, ntk.RehashOptions{}, nil)
		tabs, err := lsh.Build(lin.Codes, n, cfg.Hash.K, cfg.Hash.L)
		if err != nil {
			b.Fatal(err)
		}
		L := cfg.Hash.L
		rng := rand.New(rand.NewPCG(1, 2))
		// Queries: the codes of random points (each hits non-empty buckets).
		queries := make([][]uint32, 64)
		for i := range queries {
			p := rng.IntN(n)
			queries[i] = append([]uint32(nil), lin.Codes[p*L:(p+1)*L]...)
		}
		b.Run(name(n), func(b *testing.B) {
			var prep lsh.Prepared
			const batch = 32
			sink := 0.0
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				tabs.Prepare(&prep, queries[i%len(queries)], cfg.Eps, true)
				for k := 0; k < batch; k++ {
					_, p := prep.Draw(rng)
					sink += p
				}
			}
			s := b.Elapsed().Seconds()
			b.ReportMetric(float64(b.N*batch)/s, "draws/s")
			b.ReportMetric(float64(b.N)/s, "queries/s")
			if sink == 0 {
				b.Fatal("no probability mass drawn")
			}
		})
	}
}

// BenchmarkTrain measures training iterations/s (batch 32, rehash every
// epoch for the samplers that rehash, the one-off evaluations at the start
// and the end included) per sampler and backend. The O(N·P) samplers (true,
// ntk-exact, loss) run only at N = 10^4.
func BenchmarkTrain(b *testing.B) {
	for _, be := range backends(b) {
		for _, n := range sizes[:2] {
			d := dataset(b, n)
			for _, s := range engine.SamplerNames() {
				expensive := s == engine.SamplerTrue || s == engine.SamplerNTKExact || s == engine.SamplerLoss
				if expensive && n > 10_000 {
					continue
				}
				b.Run(fmt.Sprintf("%s/%s/%s", be.Name(), s, name(n)), func(b *testing.B) {
					m := model(b, hidden)
					cfg := engine.DefaultConfig()
					cfg.Sampler, cfg.Iters, cfg.DiagSubset, cfg.EvalEvery = s, b.N, 0, b.N+1
					tr, err := engine.NewTrainer(be, m, d, nil, cfg)
					if err != nil {
						b.Fatal(err)
					}
					b.ResetTimer()
					if _, err := tr.Train(context.Background()); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "iters/s")
				})
			}
		}
	}
}
