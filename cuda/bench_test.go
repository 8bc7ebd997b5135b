//go:build cuda

package cuda

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"gorgonia.org/cu"

	"github.com/ntklsh/ntklsh/kernels"
)

// Benchmark shapes: square products and the two rehash-like shapes of the
// LSH engine: projecting 4096 gradients of 90 features on 4096 directions
// (4096×90 · 90×4096) and a matrix-vector product (4096×4096 · 4096×1).
var benchShapes = []struct {
	name    string
	m, n, k int
}{
	{"1024x1024x1024", 1024, 1024, 1024},
	{"4096x4096x4096", 4096, 4096, 4096},
	{"rehash_4096x4096x90", 4096, 4096, 90},
	{"matvec_4096x1x4096", 4096, 1, 4096},
}

func gflops(b *testing.B, m, n, k int) {
	b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkSgemm times C = A·B (row-major, no transposes, beta = 0):
//   - cuda-device: SgemmDevice on resident Buffers, one call per iteration
//     through the worker goroutine, Synchronize before the clock stops;
//   - cuda-device-queued: b.N cuBLAS calls queued inside one worker job
//     (the GPU's rate without the per-call hand-off);
//   - cuda-device-tf32: as cuda-device-queued with TF32 math (not the
//     default; for comparison);
//   - cuda-host: the kernels.Backend Sgemm, host slices copied in and out;
//   - generic: kernels.Generic (gonum, every core) on the same machine.
func BenchmarkSgemm(b *testing.B) {
	be := gpu(b)
	r := rand.New(rand.NewPCG(1, 1))
	for _, s := range benchShapes {
		a, bm := randSlice(r, s.m*s.k), randSlice(r, s.k*s.n)
		c := make([]float32, s.m*s.n)
		da, err := be.Upload(a)
		if err != nil {
			b.Fatal(err)
		}
		db, err := be.Upload(bm)
		if err != nil {
			b.Fatal(err)
		}
		dc, err := be.NewBuffer(s.m * s.n)
		if err != nil {
			b.Fatal(err)
		}
		gemm := func() error {
			return be.SgemmDevice(false, false, s.m, s.n, s.k, 1, da, s.k, db, s.n, 0, dc, s.n)
		}
		b.Run(s.name+"/cuda-device", func(b *testing.B) {
			if err := gemm(); err != nil { // warm-up
				b.Fatal(err)
			}
			if err := be.Synchronize(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := gemm(); err != nil {
					b.Fatal(err)
				}
			}
			if err := be.Synchronize(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			gflops(b, s.m, s.n, s.k)
		})
		queued := func(b *testing.B) {
			run := func(n int) error {
				return be.do(func() error {
					for i := 0; i < n; i++ {
						if err := be.gemmDev(false, false, s.m, s.n, s.k, 1, da.ptr, s.k, db.ptr, s.n, 0, dc.ptr, s.n); err != nil {
							return err
						}
					}
					return cu.Synchronize()
				})
			}
			if err := run(1); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := run(b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			gflops(b, s.m, s.n, s.k)
		}
		b.Run(s.name+"/cuda-device-queued", queued)
		b.Run(s.name+"/cuda-device-tf32", func(b *testing.B) {
			if err := be.SetTF32(true); err != nil {
				b.Fatal(err)
			}
			defer func() {
				if err := be.SetTF32(false); err != nil {
					b.Fatal(err)
				}
			}()
			queued(b)
		})
		if s.name != "4096x4096x4096" { // host copies of 4096³ would only add seconds
			b.Run(s.name+"/cuda-host", func(b *testing.B) {
				be.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					be.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
				}
				b.StopTimer()
				gflops(b, s.m, s.n, s.k)
			})
		}
		b.Run(s.name+"/generic", func(b *testing.B) {
			kernels.Generic.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				kernels.Generic.Sgemm(false, false, s.m, s.n, s.k, 1, a, s.k, bm, s.n, 0, c, s.n)
			}
			b.StopTimer()
			gflops(b, s.m, s.n, s.k)
		})
		for _, buf := range []*Buffer{da, db, dc} {
			if err := buf.Free(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkKernels times the custom kernels on resident data (one call
// per iteration, including the small result download where the method
// returns host data) and reports the bytes they must read over the time.
func BenchmarkKernels(b *testing.B) {
	be := gpu(b)
	r := rand.New(rand.NewPCG(2, 2))
	const m, n = 4096, 4096
	a, err := be.Upload(randSlice(r, m*n))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Free()
	a2, err := be.Upload(randSlice(r, m*n))
	if err != nil {
		b.Fatal(err)
	}
	defer a2.Free()
	a3, err := be.NewBuffer(m * n)
	if err != nil {
		b.Fatal(err)
	}
	defer a3.Free()
	out := make([]float64, m)
	codes := make([]uint32, m*n/32)
	bench := func(name string, bytes float64, f func() error) {
		b.Run(name, func(b *testing.B) {
			if err := f(); err != nil {
				b.Fatal(err)
			}
			if err := be.Synchronize(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
			if err := be.Synchronize(); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
	mb := float64(m * n * 4)
	bench(fmt.Sprintf("RowSumSquares_%dx%d", m, n), mb, func() error { return be.RowSumSquaresDevice(m, n, 1, a, n, out) })
	bench(fmt.Sprintf("RowDots_%dx%d", m, n), 2*mb, func() error { return be.RowDotsDevice(m, n, a, n, a2, n, out) })
	bench(fmt.Sprintf("SignPack_%dx(32x%d)", m, n/32), mb, func() error { return be.SignPackDevice(m, 32, n/32, a, n, codes) })
	bench(fmt.Sprintf("Dot_%d", m*n), 2*mb, func() error { _, err := be.DotDevice(a, a2); return err })
	bench(fmt.Sprintf("Axpy_%d", m*n), 3*mb, func() error { return be.AxpyDevice(0.5, a, a3) })
	bench(fmt.Sprintf("TanhBackward_%d", m*n), 3*mb, func() error { return be.ActivationBackward(Tanh, a, a2, a3) })
	bench(fmt.Sprintf("ColSums_%dx%d", m, n), mb, func() error { return be.ColSums(m, n, a, n, a3) })
	bench(fmt.Sprintf("CopyDtoD_%d", m*n), 2*mb, func() error {
		return be.do(func() error { return cu.MemcpyDtoD(a3.ptr, a.ptr, int64(mb)) })
	})
}

// BenchmarkRoundTrip times handing an empty job to the worker goroutine
// and waiting for it: the fixed cost of every Backend call.
func BenchmarkRoundTrip(b *testing.B) {
	be := gpu(b)
	for i := 0; i < b.N; i++ {
		if err := be.do(func() error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKernelsQueued times the custom kernels alone: b.N launches
// queued inside one worker job, then one synchronize; no hand-off and no
// result download per iteration. Bytes as in BenchmarkKernels.
func BenchmarkKernelsQueued(b *testing.B) {
	be := gpu(b)
	r := rand.New(rand.NewPCG(3, 3))
	const m, n = 4096, 4096
	a, err := be.Upload(randSlice(r, m*n))
	if err != nil {
		b.Fatal(err)
	}
	defer a.Free()
	a2, err := be.Upload(randSlice(r, m*n))
	if err != nil {
		b.Fatal(err)
	}
	defer a2.Free()
	out, err := be.NewBuffer(2 * m * n) // room for float64 and uint32 results
	if err != nil {
		b.Fatal(err)
	}
	defer out.Free()
	bench := func(name string, bytes float64, launch func() error) {
		b.Run(name, func(b *testing.B) {
			run := func(k int) error {
				return be.do(func() error {
					for i := 0; i < k; i++ {
						if err := launch(); err != nil {
							return err
						}
					}
					return cu.Synchronize()
				})
			}
			if err := run(1); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			if err := run(b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
	mb := float64(m * n * 4)
	bench("RowSumSquares", mb, func() error { return be.rowSumSqDev(m, n, 1, a.ptr, n, out.ptr) })
	bench("RowDots", 2*mb, func() error { return be.rowDotsDev(m, n, a.ptr, n, a2.ptr, n, out.ptr) })
	bench("SignPack_k32", mb, func() error { return be.signPackDev(m, 32, n/32, a.ptr, n, out.ptr) })
	bench("SignPack_k13", mb, func() error { return be.signPackDev(m, 13, n/13, a.ptr, n, out.ptr) })
	bench("DotPartials", 2*mb, func() error {
		return be.launch(kDotPartial, dotMaxGrid, 1, block1D, 1, argPtr(a.ptr), argPtr(a2.ptr), argInt(m*n), argPtr(out.ptr))
	})
	bench("ColSums", mb, func() error { return be.colSumsDev(m, n, a.ptr, n, out.ptr) })
}
