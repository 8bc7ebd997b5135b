//go:build cuda

package cuda

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

func envInts(name string, def []int) []int {
	var v []int
	for _, s := range strings.Split(os.Getenv(name), ",") {
		if x, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && x > 0 {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return def
	}
	return v
}

// TestStepBench measures training iterations per second of engine.Trainer
// with the per-iteration work on the GPU (Stepper = Stepper, Linearizer = a
// Rehasher) and on the CPU (the avx2 backend, GOMAXPROCS workers), for one
// hidden relu layer of width w (NTKLSH_STEP_WIDTHS, default
// 64,256,1024,4096,16384), 90 inputs, one output, N = NTKLSH_STEP_N
// (default 200000) random points, batches NTKLSH_STEP_BATCHES (default
// 32,256), samplers lsh (engine.DefaultConfig(): K=1, L=64, re-centred
// α=0.01, MIPS, structured), ntk-static (norms-only rehash) and uniform,
// rehash every epoch; the CPU side on the best CPU backend (avx512, else
// avx2).
//
// What is timed: the trainer's own sample + gradient seconds over the run's
// iterations (Result.Final.SampleSeconds + GradSeconds; evaluations and the
// one rehash at iteration 0 excluded) gives the per-iteration rate. Both
// runs rehash with the GPU Rehasher, so that the CPU run does not spend
// seconds on a CPU rehash it does not time; the rehash costs are measured
// apart: the Rehasher on all N points (median of 3 after a warm-up) and
// ntk.Rehash on that CPU backend on the first NTKLSH_STEP_CPU_REHASH_N (default
// 10000) points, scaled to N (linear in N). The epoch rate combines them:
// (N/B) / ((N/B)/rate + rehash seconds). Runs only with
// NTKLSH_STEP_BENCH=1; lines starting with STEPBENCH carry the numbers.
func TestStepBench(t *testing.T) {
	if os.Getenv("NTKLSH_STEP_BENCH") == "" {
		t.Skip("set NTKLSH_STEP_BENCH=1 to run the training-step benchmark")
	}
	be := gpu(t)
	widths := envInts("NTKLSH_STEP_WIDTHS", []int{64, 256, 1024, 4096, 16384})
	batches := envInts("NTKLSH_STEP_BATCHES", []int{32, 256})
	const in = 90
	n := envInt("NTKLSH_STEP_N", 200000)
	cpuRehashN := min(n, envInt("NTKLSH_STEP_CPU_REHASH_N", 10000))
	budget := time.Duration(envInt("NTKLSH_STEP_RUN_MS", 1500)) * time.Millisecond
	// The best CPU backend this host has (avx512, else avx2, else generic):
	// with -tags cuda, kernels.Default() would pick cuda itself.
	var cpu kernels.Backend
	var why string
	var err error
	for _, name := range []string{"avx512", "avx2"} {
		if cpu, why, err = kernels.Select(name); err == nil {
			break
		}
		t.Logf("%s backend not usable (%v)", name, err)
	}
	if err != nil {
		cpu, why = kernels.Generic, "fallback"
	}
	workers := runtime.GOMAXPROCS(0)
	fmt.Printf("STEPBENCH setup device=%q cpu=%s (%s) GOMAXPROCS=%d N=%d cpuRehashN=%d budget=%v\n",
		be.Device(), cpu.Name(), why, workers, n, cpuRehashN, budget)
	rng := rand.New(rand.NewPCG(21, 22))
	ds := &data.Dataset{Name: "bench", N: n, D: in, O: 1, X: make([]float32, n*in), Y: make([]float32, n)}
	for i := range ds.X {
		ds.X[i] = float32(rng.NormFloat64())
	}
	for i := range ds.Y {
		ds.Y[i] = float32(rng.NormFloat64())
	}
	type row struct {
		w, b                 int
		smp                  string
		gpuIt, cpuIt         float64 // iterations/s without rehash
		gpuRehash, cpuRehash float64 // seconds per rehash (lsh: hashed; ntk-static: norms only)
	}
	var rows []row
	for _, w := range widths {
		m, err := nn.New(nn.Config{In: in, Out: 1, Hidden: []int{w}, Activation: nn.ReLU, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRehasher(be, m, ds.X, ds.Y, n, 8192)
		if err != nil {
			t.Fatal(err)
		}
		st, err := NewStepperWith(r, m, max(256, slicesMax(batches)))
		if err != nil {
			t.Fatal(err)
		}
		// Rehash costs (lsh's hasher; the same for every batch size).
		cfg0 := engine.DefaultConfig()
		h, err := ntk.NewHasher(m, cfg0.Hash)
		if err != nil {
			t.Fatal(err)
		}
		var lin *ntk.Linearization
		ds3 := timeReps(t, 3, func() error { var err error; lin, err = r.Rehash(m, h, lin); return err })
		gpuRehash := median(ds3).Seconds()
		t0 := time.Now()
		ntk.Rehash(cpu, m, ds.X[:cpuRehashN*in], ds.Y[:cpuRehashN], cpuRehashN, h,
			ntk.RehashOptions{Batch: 256, Workers: workers}, nil)
		cpuRehash := time.Since(t0).Seconds() * float64(n) / float64(cpuRehashN)
		fmt.Printf("STEPBENCH w=%d rehash gpu_s=%.4f (median of 3, N=%d) cpu_s=%.3f (%d points timed, scaled to N)\n",
			w, gpuRehash, n, cpuRehash, cpuRehashN)
		// Norms only (no hasher): what ntk-static's rehash costs.
		var linN *ntk.Linearization
		dn := timeReps(t, 3, func() error { var err error; linN, err = r.Rehash(m, nil, linN); return err })
		gpuNorms := median(dn).Seconds()
		t0 = time.Now()
		ntk.Rehash(cpu, m, ds.X[:cpuRehashN*in], ds.Y[:cpuRehashN], cpuRehashN, nil,
			ntk.RehashOptions{Batch: 256, Workers: workers}, nil)
		cpuNorms := time.Since(t0).Seconds() * float64(n) / float64(cpuRehashN)
		fmt.Printf("STEPBENCH w=%d rehash-norms gpu_s=%.4f (median of 3, N=%d) cpu_s=%.3f (%d points timed, scaled to N)\n",
			w, gpuNorms, n, cpuNorms, cpuRehashN)

		for _, b := range batches {
			for _, smp := range []string{engine.SamplerLSH, engine.SamplerNTKStatic, engine.SamplerUniform} {
				// per-iteration seconds of one run of iters iterations
				runOnce := func(onGPU bool, iters int) (float64, error) {
					mm := m.Clone()
					cfg := engine.DefaultConfig()
					// lr 0.001 diverges at width 16384 on these random targets (run 2): scale it by 1024/w above 1024.
					cfg.Sampler, cfg.Batch, cfg.Iters, cfg.LR, cfg.DiagSubset, cfg.EvalEvery = smp, b, iters, 0.001*min(1, 1024/float64(w)), 50, iters
					cfg.Workers = workers
					var tbe kernels.Backend = cpu
					tr, err := engine.NewTrainer(tbe, mm, ds, nil, cfg)
					if err != nil {
						return 0, err
					}
					tr.Linearizer = r
					if onGPU {
						tr.Stepper = st
					}
					res, err := tr.Train(context.Background())
					if err != nil {
						return 0, err
					}
					return (res.Final.SampleSeconds + res.Final.GradSeconds) / float64(iters), nil
				}
				rate := func(onGPU bool) (float64, int, error) {
					// Calibrate on 20 iterations, then run for about budget.
					per, err := runOnce(onGPU, 20)
					if err != nil {
						return 0, 0, err
					}
					iters := int(min(20000, max(50, budget.Seconds()/max(per, 1e-7))))
					per, err = runOnce(onGPU, iters)
					if err != nil {
						return 0, 0, err
					}
					return 1 / per, iters, nil
				}
				rw := row{w: w, b: b, smp: smp, gpuRehash: gpuRehash, cpuRehash: cpuRehash}
				if smp == engine.SamplerNTKStatic {
					rw.gpuRehash, rw.cpuRehash = gpuNorms, cpuNorms
				}
				var gi, ci int
				if rw.gpuIt, gi, err = rate(true); err != nil {
					t.Errorf("w=%d b=%d %s gpu: %v", w, b, smp, err)
				}
				if rw.cpuIt, ci, err = rate(false); err != nil {
					t.Errorf("w=%d b=%d %s cpu: %v", w, b, smp, err)
				}
				fmt.Printf("STEPBENCH w=%d b=%d sampler=%s gpu_it/s=%.4g (%d iters) cpu_it/s=%.4g (%d iters) ratio=%.2f\n",
					w, b, smp, rw.gpuIt, gi, rw.cpuIt, ci, rw.gpuIt/rw.cpuIt)
				rows = append(rows, rw)
			}
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Printf("STEPBENCH table: width | batch | sampler | GPU it/s | CPU %s it/s | GPU/CPU | GPU epoch it/s | CPU epoch it/s | GPU/CPU (epoch, rehash each epoch)\n", cpu.Name())
	for _, rw := range rows {
		ge, ce := rw.gpuIt, rw.cpuIt
		if rw.smp != engine.SamplerUniform {
			per := float64(n) / float64(rw.b)
			ge = per / (per/rw.gpuIt + rw.gpuRehash)
			ce = per / (per/rw.cpuIt + rw.cpuRehash)
		}
		fmt.Printf("STEPBENCH table: %d | %d | %s | %.4g | %.4g | %.2f | %.4g | %.4g | %.2f\n",
			rw.w, rw.b, rw.smp, rw.gpuIt, rw.cpuIt, rw.gpuIt/rw.cpuIt, ge, ce, ge/ce)
	}
}

func slicesMax(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}
