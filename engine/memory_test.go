package engine

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// TestLargeRunMemory trains the lsh sampler with N = 200k points and a
// model of P ≈ 94k parameters (90-1024-1, the YearPredictionMSD shape): an
// N×P Jacobian would take 75 GB in float32. The peak heap must stay under
// 1 GB because rehash streams the Jacobian in batches.
func TestLargeRunMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("large run: skipped with -short")
	}
	const n, d = 200_000, 90
	rng := rand.New(rand.NewPCG(1, 1))
	ds := &data.Dataset{Name: "big", N: n, D: d, O: 1, X: make([]float32, n*d), Y: make([]float32, n)}
	for i := range ds.X {
		ds.X[i] = float32(rng.NormFloat64())
	}
	for i := 0; i < n; i++ {
		ds.Y[i] = ds.X[i*d] * ds.X[i*d+1]
	}
	m, err := nn.New(nn.Config{In: d, Out: 1, Hidden: []int{1024}, Activation: nn.ReLU, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p := m.NumParams(); p < 90_000 {
		t.Fatalf("P = %d", p)
	}
	cfg := DefaultConfig()
	cfg.Sampler = SamplerLSH
	cfg.Iters = 30
	cfg.RehashEvery = 20 // two rehashes
	cfg.Hash.K, cfg.Hash.L = 4, 8
	cfg.DiagSubset = 500
	cfg.EvalEvery = 30
	cfg.LR = 0.001
	be, _, err := kernels.Default()
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var peak atomic.Uint64
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapInuse
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var s runtime.MemStats
		for {
			runtime.ReadMemStats(&s)
			if s.HeapInuse > peak.Load() {
				peak.Store(s.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	tr, err := NewTrainer(be, m, ds, nil, cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := tr.Train(context.Background())
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	pk := peak.Load()
	t.Logf("N=%d P=%d: %d iterations, %d rehashes in %v (rehash %.1fs); peak heap in use %.0f MB (data %.0f MB)",
		n, m.NumParams(), res.Final.Iter, res.Final.Rehashes, time.Since(start).Round(time.Millisecond), res.Final.RehashSeconds,
		float64(pk)/1e6, float64(base)/1e6)
	if pk > 1<<30 {
		t.Errorf("peak heap %d bytes exceeds 1 GB", pk)
	}
	if res.Final.Rehashes != 2 {
		t.Errorf("rehashes = %d, want 2", res.Final.Rehashes)
	}
}
