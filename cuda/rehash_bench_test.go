//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorgonia.org/cu"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// timeReps calls f once to warm up, then reps times, and returns the times.
func timeReps(t *testing.T, reps int, f func() error) []time.Duration {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
	ds := make([]time.Duration, reps)
	for i := range ds {
		t0 := time.Now()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		ds[i] = time.Since(t0)
	}
	return ds
}

func fmtDurs(d []time.Duration) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = fmt.Sprintf("%.4f", v.Seconds())
	}
	return strings.Join(s, ",")
}

// gemmOnly runs, for every batch of the data set, the cuBLAS calls of one
// stage of Rehash (same shapes, same buffers) and nothing else, queued in
// one worker job with one synchronize: cuBLAS SGEMM alone.
func gemmOnly(r *Rehasher, stage int, layers []int) (time.Duration, float64, error) {
	var dt time.Duration
	var flops float64
	err := r.be.do(func() error {
		if err := cu.Synchronize(); err != nil {
			return err
		}
		t0 := time.Now()
		L := r.layers()
		g := func(transA, transB bool, m, n, k int, a cu.DevicePtr, lda int, b cu.DevicePtr, ldb int, c cu.DevicePtr, ldc int) error {
			flops += 2 * float64(m) * float64(n) * float64(k)
			return r.be.gemmDev(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
		}
		for lo := 0; lo < r.n; lo += r.cap {
			cnt := min(r.cap, r.n-lo)
			switch stage {
			case stFwdGemm:
				for l := 1; l <= L; l++ {
					w, in := r.sizes[l], r.sizes[l-1]
					if err := g(false, true, cnt, w, in, r.input(l-1, lo), in, off(r.params, r.offW[l], 4), in, r.z[l], w); err != nil {
						return err
					}
				}
			case stBwdGemm:
				for l := L; l > 1; l-- {
					w, in := r.sizes[l], r.sizes[l-1]
					if err := g(false, false, cnt, in, w, r.d[l], w, off(r.params, r.offW[l], 4), in, r.d[l-1], in); err != nil {
						return err
					}
				}
			case stProjGemm:
				for _, l := range layers {
					w, in := r.sizes[l], r.sizes[l-1]
					if err := g(false, true, cnt, r.kl, w, r.d[l], w, r.u[l], w, r.pd, r.kl); err != nil {
						return err
					}
					if err := g(false, true, cnt, r.kl, in, r.input(l-1, lo), in, r.vh[l], in, r.ph, r.kl); err != nil {
						return err
					}
				}
			}
		}
		if err := cu.Synchronize(); err != nil {
			return err
		}
		dt = time.Since(t0)
		return nil
	})
	return dt, flops, err
}

// TestRehashBench measures rehash throughput (points per second) for one
// hidden layer of width w (NTKLSH_REHASH_WIDTHS, default 1024,4096,16384),
// 90 inputs, one output, relu, structured hashing K=2, L=64 with MIPS, on
// N = NTKLSH_REHASH_N (default 10^6) random points: the Rehasher (device
// finishing, host finishing, no hasher), its stage split, cuBLAS alone on
// the same GEMMs, and ntk.Rehash on the best CPU backend ("avx2" when
// available) on the first NTKLSH_REHASH_CPU_N (default 20000) points. It
// runs only with NTKLSH_REHASH_BENCH=1. Lines starting with REHASHBENCH
// carry the numbers.
func TestRehashBench(t *testing.T) {
	if os.Getenv("NTKLSH_REHASH_BENCH") == "" {
		t.Skip("set NTKLSH_REHASH_BENCH=1 to run the rehash benchmark")
	}
	be := gpu(t)
	var widths []int
	for _, s := range strings.Split(os.Getenv("NTKLSH_REHASH_WIDTHS"), ",") {
		if w, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && w > 0 {
			widths = append(widths, w)
		}
	}
	if len(widths) == 0 {
		widths = []int{1024, 4096, 16384}
	}
	const in = 90
	n := envInt("NTKLSH_REHASH_N", 1_000_000)
	cpuN := min(n, envInt("NTKLSH_REHASH_CPU_N", 20000))
	batch := envInt("NTKLSH_REHASH_BATCH", 8192)
	reps := envInt("NTKLSH_REHASH_REPS", 5)
	cpu, why, err := kernels.Select("avx2")
	if err != nil {
		t.Logf("avx2 backend not usable (%v); CPU numbers use generic", err)
		cpu, why = kernels.Generic, "fallback"
	}
	workers := runtime.GOMAXPROCS(0)
	fmt.Printf("REHASHBENCH setup device=%q cpu=%s (%s) cpuinfo=%q GOMAXPROCS=%d N=%d cpuN=%d batch=%d reps=%d\n",
		be.Device(), cpu.Name(), why, kernels.CPUInfo(), workers, n, cpuN, batch, reps)
	rng := rand.New(rand.NewPCG(11, 12))
	x, y := make([]float32, n*in), make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	for i := range y {
		y[i] = float32(rng.NormFloat64())
	}
	type row struct {
		w                              int
		gpuHash, gpuHost, gpuNorm, cpu float64 // points/s
		cpuNorm                        float64
	}
	var rows []row
	for _, w := range widths {
		m, err := nn.New(nn.Config{In: in, Out: 1, Hidden: []int{w}, Activation: nn.ReLU, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		randBiases(m, rng)
		hcfg := ntk.HashConfig{K: 2, L: 64, Family: ntk.Structured, MIPS: true, Query: ntk.QueryPaper,
			Alpha: 0.01, SignSymmetric: true, Seed: 7}
		h, err := ntk.NewHasher(m, hcfg)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		r, err := NewRehasher(be, m, x, y, n, batch)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("REHASHBENCH w=%d upload_s=%.3f (NewRehasher: data to the device, once)\n", w, time.Since(t0).Seconds())
		rw := row{w: w}
		var lin *ntk.Linearization
		pps := func(ds []time.Duration, pts int) float64 { return float64(pts) / median(ds).Seconds() }

		// 1. GPU, hashed, codes finished on the device.
		ds := timeReps(t, reps, func() error { var err error; lin, err = r.Rehash(m, h, lin); return err })
		rw.gpuHash = pps(ds, n)
		fmt.Printf("REHASHBENCH w=%d mode=gpu-hash-devfinish N=%d resident=%v median_s=%.4f pts/s=%.4g times=%s\n",
			w, n, r.Resident(), median(ds).Seconds(), rw.gpuHash, fmtDurs(ds))
		gpuLin := &ntk.Linearization{N: n, ANorm: slices.Clone(lin.ANorm), B: slices.Clone(lin.B), F0: slices.Clone(lin.F0),
			GradNorm0: slices.Clone(lin.GradNorm0), Codes: slices.Clone(lin.Codes)}

		// 2. Stage split (synchronizing after every stage).
		r.timing = &stageTimer{}
		t0 = time.Now()
		if _, err := r.Rehash(m, h, lin); err != nil {
			t.Fatal(err)
		}
		total := time.Since(t0)
		st := r.timing
		r.timing = nil
		var parts []string
		for s := 0; s < numStages; s++ {
			parts = append(parts, fmt.Sprintf("%s=%.4f", stageNames[s], st.dur[s].Seconds()))
		}
		fmt.Printf("REHASHBENCH w=%d mode=stages total_s=%.4f %s\n", w, total.Seconds(), strings.Join(parts, " "))
		// 3. cuBLAS alone on the same GEMMs, against the stages.
		layers := h.Projections().Layers
		var gemmTotal time.Duration
		for _, sg := range []struct {
			name        string
			gemm, elems int
		}{{"fwd", stFwdGemm, stFwdElem}, {"bwd", stBwdGemm, stBwdElem}, {"proj", stProjGemm, stProjElem}} {
			var alone []time.Duration
			var fl float64
			for i := 0; i < 3; i++ {
				dt, f, err := gemmOnly(r, sg.gemm, layers)
				if err != nil {
					t.Fatal(err)
				}
				alone, fl = append(alone, dt), f
			}
			a := median(alone)
			gemmTotal += a
			stage := st.dur[sg.gemm] + st.dur[sg.elems]
			fmt.Printf("REHASHBENCH w=%d mode=gemm stage=%s gflop=%.2f sgemm_alone_s=%.4f sgemm_alone_gflops=%.0f stage_gemm_s=%.4f stage_gemm_gflops=%.0f stage_total_s=%.4f stage_gflops=%.0f stage_vs_alone=%.2f\n",
				w, sg.name, fl/1e9, a.Seconds(), fl/a.Seconds()/1e9, st.dur[sg.gemm].Seconds(), st.flops[sg.gemm]/st.dur[sg.gemm].Seconds()/1e9,
				stage.Seconds(), fl/stage.Seconds()/1e9, a.Seconds()/stage.Seconds())
		}
		fmt.Printf("REHASHBENCH w=%d mode=gemm-fraction sgemm_alone_total_s=%.4f rehash_median_s=%.4f fraction=%.2f\n",
			w, gemmTotal.Seconds(), median(ds).Seconds(), gemmTotal.Seconds()/median(ds).Seconds())

		// 4. GPU, hashed, codes finished on the host (raw projections downloaded).
		r.HostFinish, r.CPU = true, cpu
		ds = timeReps(t, max(2, reps/2), func() error { var err error; lin, err = r.Rehash(m, h, lin); return err })
		r.HostFinish = false
		rw.gpuHost = pps(ds, n)
		same := slices.Equal(lin.Codes, gpuLin.Codes)
		fmt.Printf("REHASHBENCH w=%d mode=gpu-hash-hostfinish N=%d median_s=%.4f pts/s=%.4g times=%s codes_equal_devfinish=%v\n",
			w, n, median(ds).Seconds(), rw.gpuHost, fmtDurs(ds), same)
		if !same {
			t.Errorf("w=%d: host-finished codes differ from device-finished ones", w)
		}

		// 5. GPU without a hasher: |a_i|, b_i, f0, exact gradient norms only.
		var nlin *ntk.Linearization
		ds = timeReps(t, reps, func() error { var err error; nlin, err = r.Rehash(m, nil, nlin); return err })
		rw.gpuNorm = pps(ds, n)
		fmt.Printf("REHASHBENCH w=%d mode=gpu-norms N=%d median_s=%.4f pts/s=%.4g times=%s\n",
			w, n, median(ds).Seconds(), rw.gpuNorm, fmtDurs(ds))
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}

		// 6. CPU: ntk.Rehash on the first cpuN points.
		cpuReps := 3
		var clin *ntk.Linearization
		opt := ntk.RehashOptions{Batch: 256, Workers: workers}
		ds = timeReps(t, cpuReps, func() error {
			clin = ntk.Rehash(cpu, m, x[:cpuN*in], y[:cpuN], cpuN, h, opt, clin)
			return nil
		})
		rw.cpu = pps(ds, cpuN)
		fmt.Printf("REHASHBENCH w=%d mode=cpu-hash backend=%s N=%d workers=%d median_s=%.4f pts/s=%.4g times=%s\n",
			w, cpu.Name(), cpuN, workers, median(ds).Seconds(), rw.cpu, fmtDurs(ds))
		// Per-point values do not depend on N: compare the GPU's on these points.
		worst := 0.0
		for i := 0; i < cpuN; i++ {
			worst = math.Max(worst, math.Abs(gpuLin.ANorm[i]-clin.ANorm[i])/clin.ANorm[i])
		}
		fmt.Printf("REHASHBENCH w=%d check ANorm max rel |gpu−cpu| over %d points = %.3g\n", w, cpuN, worst)
		if !(worst <= rehashTol) {
			t.Errorf("w=%d: ANorm differs from the CPU's by %g relative", w, worst)
		}
		var nclin *ntk.Linearization
		ds = timeReps(t, cpuReps, func() error {
			nclin = ntk.Rehash(cpu, m, x[:cpuN*in], y[:cpuN], cpuN, nil, opt, nclin)
			return nil
		})
		rw.cpuNorm = pps(ds, cpuN)
		fmt.Printf("REHASHBENCH w=%d mode=cpu-norms backend=%s N=%d median_s=%.4f pts/s=%.4g times=%s\n",
			w, cpu.Name(), cpuN, median(ds).Seconds(), rw.cpuNorm, fmtDurs(ds))
		rows = append(rows, rw)
	}
	fmt.Printf("REHASHBENCH table: width | GPU hash pts/s (dev finish) | GPU hash (host finish) | CPU %s hash pts/s | ratio | GPU norms pts/s | CPU norms pts/s | ratio\n", cpu.Name())
	for _, rw := range rows {
		fmt.Printf("REHASHBENCH table: %d | %.4g | %.4g | %.4g | %.1f | %.4g | %.4g | %.1f\n", rw.w, rw.gpuHash, rw.gpuHost, rw.cpu,
			rw.gpuHash/rw.cpu, rw.gpuNorm, rw.cpuNorm, rw.gpuNorm/rw.cpuNorm)
	}
}
