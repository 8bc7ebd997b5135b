package asm_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/kernels"
)

// Benchmarks compare the assembly ("avx512", "avx2"), the same driver with the Go
// micro-kernel and Go vector loops ("twin"), and, for GEMM, kernels.Generic
// (gonum). threads=1 runs pin Sgemm and gonum to one goroutine
// (SetMaxThreads(1) and GOMAXPROCS(1)).

func randFloats(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 7))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.Float64()*2 - 1)
	}
	return s
}

// impl runs f with one implementation selected.
type impl struct {
	name string
	set  func() (restore func())
}

func impls(b *testing.B) []impl {
	out := []impl{{"twin", func() func() { return asm.SetISA(asm.Go) }}}
	for _, l := range []asm.ISA{asm.AVX2, asm.AVX512} {
		if ok, why := asm.SupportedISA(l); ok {
			out = append([]impl{{l.String(), func() func() { return asm.SetISA(l) }}}, out...)
		} else {
			b.Logf("%s not supported: %s", l, why)
		}
	}
	return out
}

// pathImpls are the assembly levels and, on AVX-512, its Sgemm forced to
// the packed path ("avx512-packed") and to the path that does not pack
// ("avx512-nopack", where the transposes have one); plain "avx512" is the
// shape rule's choice.
func pathImpls(b *testing.B, transA, transB bool) []impl {
	var out []impl
	for _, im := range impls(b) {
		if im.name == "twin" {
			continue
		}
		out = append(out, im)
		if im.name != "avx512" {
			continue
		}
		modes := []string{"packed"}
		if !transA {
			modes = append(modes, "nopack")
		}
		for _, mode := range modes {
			out = append(out, impl{"avx512-" + mode, func() func() {
				undoISA, undoPath := asm.SetISA(asm.AVX512), asm.ForcePath(mode, transB)
				return func() { undoPath(); undoISA() }
			}})
		}
	}
	return out
}

// singleThread pins both asm.Sgemm and gonum to one goroutine.
func singleThread() (restore func()) {
	r := asm.SetMaxThreads(1)
	p := runtime.GOMAXPROCS(1)
	return func() { r(); runtime.GOMAXPROCS(p) }
}

func BenchmarkSgemm(b *testing.B) {
	type shape struct {
		tA, tB  bool
		m, n, k int
	}
	shapes := []shape{
		{false, false, 1024, 1024, 1024},
		{false, true, 1024, 1024, 1024},
		{true, false, 1024, 1024, 1024},
		{false, true, 256, 128, 4096},
	}
	for _, s := range shapes {
		a := randFloats(s.m*s.k, 1)
		bm := randFloats(s.k*s.n, 2)
		c := make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		op := func(t, tt bool) string {
			if tt {
				return "T"
			}
			return "N"
		}
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		name := fmt.Sprintf("%s%s/%dx%dx%d", op(s.tA, s.tA), op(s.tB, s.tB), s.m, s.n, s.k)
		run := func(b *testing.B, f func()) {
			b.SetBytes(int64(4 * (s.m*s.k + s.k*s.n + s.m*s.n)))
			f()
			b.ResetTimer()
			cpu0 := asm.CPUSeconds()
			for b.Loop() {
				f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := asm.CPUSeconds() - cpu0; cpu > 0 {
				// Per CPU second of the process (meaningful with threads=1).
				b.ReportMetric(flops*float64(b.N)/cpu/1e9, "cpu-GFLOP/s")
			}
		}
		for _, im := range impls(b) {
			for _, th := range []int{1, 2} {
				if im.name == "twin" && (th == 2 || s.m*s.n*s.k > 1<<28) && testing.Short() {
					continue
				}
				b.Run(fmt.Sprintf("%s/impl=%s/threads=%d", name, im.name, th), func(b *testing.B) {
					defer im.set()()
					restore := asm.SetMaxThreads(th)
					if th == 1 {
						restore = singleThread()
					}
					defer restore()
					run(b, func() { asm.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) })
				})
			}
		}
		b.Run(name+"/impl=generic/threads=1", func(b *testing.B) {
			defer singleThread()()
			run(b, func() { kernels.Generic.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n) })
		})
	}
}

// BenchmarkSgemmEngine runs the engine's products, single thread: a
// training step of the width-1024 layer at batch 32 (forward NT, dX NN,
// dW TN, engine/nn/batch.go) and the rehash at batch 256 (forward NT, the
// 128 projections of the batch and of the weights, engine/ntk/hash.go).
func BenchmarkSgemmEngine(b *testing.B) {
	type shape struct {
		name    string
		tA, tB  bool
		m, n, k int
	}
	for _, s := range []shape{
		{"train-fwd-NT", false, true, 32, 1024, 1024},
		{"train-dX-NN", false, false, 32, 1024, 1024},
		{"train-dW-TN", true, false, 1024, 1024, 32},
		{"rehash-fwd-NT", false, true, 256, 1024, 1024},
		{"rehash-proj-NT", false, true, 256, 128, 1024},
		{"rehash-vh-NT", false, true, 128, 1024, 1024},
		// The 16-1024-1 network of bench/ StepWidth1024: output layer
		// forward (n = 1), its weight gradient (m = 1), the hidden layer's
		// weight gradient (n = 16) and input gradient (k = 1), the rehash's
		// output forward and an lsh query projection (n = 1).
		{"w1024-out-fwd-NT", false, true, 32, 1, 1024},
		{"w1024-out-dW-TN", true, false, 1, 1024, 32},
		{"w1024-hid-dW-TN", true, false, 1024, 16, 32},
		{"w1024-out-dX-NN", false, false, 32, 1024, 1},
		{"w1024-rehash-out-NT", false, true, 256, 1, 1024},
		{"w1024-query-NT", false, true, 64, 1, 1024},
	} {
		a, bm, c := randFloats(s.m*s.k, 1), randFloats(s.k*s.n, 2), make([]float32, s.m*s.n)
		lda, ldb := s.k, s.n
		if s.tA {
			lda = s.m
		}
		if s.tB {
			ldb = s.k
		}
		for _, im := range pathImpls(b, s.tA, s.tB) {
			b.Run(fmt.Sprintf("%s/%dx%dx%d/impl=%s", s.name, s.m, s.n, s.k, im.name), func(b *testing.B) {
				defer im.set()()
				defer singleThread()()
				cpu0 := asm.CPUSeconds()
				for b.Loop() {
					asm.Sgemm(s.tA, s.tB, s.m, s.n, s.k, 1, a, lda, bm, ldb, 0, c, s.n)
				}
				flops := 2 * float64(s.m) * float64(s.n) * float64(s.k) * float64(b.N)
				b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				if cpu := asm.CPUSeconds() - cpu0; cpu > 0 {
					b.ReportMetric(cpu/float64(b.N)*1e9, "cpu-ns/op")
				}
			})
		}
	}
}

// BenchmarkSRP is dense sign-random-projection hashing: N = 4096 vectors of
// P = 16384 floats against 128 projections, Y = X·Rᵀ then the signs packed
// into 128-bit codes (4 × 32 bits), single thread.
func BenchmarkSRP(b *testing.B) {
	const n, p, r = 4096, 16384, 128
	x := randFloats(n*p, 3)
	proj := randFloats(r*p, 4)
	y := make([]float32, n*r)
	codes := make([]uint32, n*r/32)
	flops := 2.0 * n * p * r
	ims := append(pathImpls(b, false, true), impl{name: "generic"})
	for _, im := range ims {
		b.Run(fmt.Sprintf("N=%d/P=%d/bits=%d/impl=%s/threads=1", n, p, r, im.name), func(b *testing.B) {
			defer singleThread()()
			f := func() {
				kernels.Generic.Sgemm(false, true, n, r, p, 1, x, p, proj, p, 0, y, r)
				kernels.Generic.SignPack(n, 32, r/32, y, r, codes)
			}
			if im.set != nil {
				defer im.set()()
				f = func() {
					asm.Sgemm(false, true, n, r, p, 1, x, p, proj, p, 0, y, r)
					asm.SignPack(n, 32, r/32, y, r, codes)
				}
			}
			f()
			b.SetBytes(4 * (n*p + r*p))
			b.ResetTimer()
			cpu0 := asm.CPUSeconds()
			for b.Loop() {
				f()
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			if cpu := asm.CPUSeconds() - cpu0; cpu > 0 {
				b.ReportMetric(cpu/float64(b.N)*1e9, "cpu-ns/op")
			}
		})
	}
}

func BenchmarkVector(b *testing.B) {
	const n = 4096
	x, y := randFloats(n, 5), randFloats(n, 6)
	const pn = 18433
	pw, pw0, pd := randFloats(pn, 11), randFloats(pn, 12), make([]float32, pn)
	const rows, cols = 64, 1024
	ma, mb := randFloats(rows*cols, 7), randFloats(rows*cols, 8)
	out := make([]float64, rows)
	const sm, sk, sl = 512, 32, 4
	proj := randFloats(sm*sk*sl, 9)
	codes := make([]uint32, sm*sl)
	relu, mask := make([]float32, rows*cols), randFloats(rows*cols, 10)
	// The norms-only rehash's per-row sums (MaskedRowNorms) against the
	// unfused kernels it replaced (nn: RowSumSquares of h, then per row the
	// masked copy of w, Dot and RowDots), on ReLU activations.
	hact, wrow, norms, dcopy := make([]float32, rows*cols), randFloats(cols, 13), make([]float64, 3*rows), make([]float32, cols)
	asm.ReLU(ma, hact)
	// A dense ReLU layer of the time-to-target models' first layer (batch
	// 256, 16 inputs, width 1024), one goroutine: SgemmBiasReLU writing
	// h only, against the bias copy, Sgemm and ReLU it stands for.
	const lm, ln, lk = 256, 1024, 16
	lx, lw, lbias := randFloats(lm*lk, 14), randFloats(ln*lk, 15), randFloats(ln, 16)
	lz, lh := make([]float32, lm*ln), make([]float32, lm*ln)
	var sink float64
	cases := []struct {
		name  string
		bytes int64
		f     func()
	}{
		{fmt.Sprintf("Dot/n=%d", n), 8 * n, func() { sink += asm.Dot(x, y) }},
		{fmt.Sprintf("Axpy/n=%d", n), 12 * n, func() { asm.Axpy(1e-3, x, y) }},
		// ntk-drift's |w − w0|² at P = 18 433: one pass, against the
		// copy, Axpy and Dot it replaced (the same result bit for bit).
		{fmt.Sprintf("SqDist/n=%d", pn), 8 * pn, func() { sink += asm.SqDist(pw, pw0) }},
		{fmt.Sprintf("CopyAxpyDot/n=%d", pn), 8 * pn, func() {
			copy(pd, pw)
			asm.Axpy(-1, pw0, pd)
			sink += asm.Dot(pd, pd)
		}},
		{fmt.Sprintf("RowSumSquares/%dx%d", rows, cols), 4 * rows * cols, func() { asm.RowSumSquares(rows, cols, 0.5, ma, cols, out) }},
		// nn.GradSqNorms' |δ|² of a batch: one RowSumSquares call (above)
		// against the Dot per row it replaced (the same bits).
		{fmt.Sprintf("DotPerRow/%dx%d", rows, cols), 4 * rows * cols, func() {
			for i := 0; i < rows; i++ {
				r := ma[i*cols : (i+1)*cols]
				out[i] = asm.Dot(r, r)
			}
		}},
		{fmt.Sprintf("RowDots/%dx%d", rows, cols), 8 * rows * cols, func() { asm.RowDots(rows, cols, ma, cols, mb, cols, out) }},
		{fmt.Sprintf("SignPack/m=%d/k=%d/l=%d", sm, sk, sl), 4 * sm * sk * sl, func() { asm.SignPack(sm, sk, sl, proj, sk*sl, codes) }},
		{fmt.Sprintf("ReLU/%dx%d", rows, cols), 8 * rows * cols, func() { asm.ReLU(ma, relu) }},
		{fmt.Sprintf("ReLUMask/%dx%d", rows, cols), 12 * rows * cols, func() { asm.ReLUMask(ma, mask) }},
		{fmt.Sprintf("MaskedRowNorms/%dx%d", rows, cols), 4 * rows * cols, func() { asm.MaskedRowNorms(rows, cols, hact, cols, wrow, norms) }},
		{fmt.Sprintf("UnfusedNorms/%dx%d", rows, cols), 4 * rows * cols, func() {
			asm.RowSumSquares(rows, cols, 1, hact, cols, out)
			for i := 0; i < rows; i++ {
				h := hact[i*cols : (i+1)*cols]
				copy(dcopy, wrow)
				asm.ReLUMask(h, dcopy)
				sink += asm.Dot(dcopy, dcopy)
				asm.RowDots(1, cols, dcopy, cols, h, cols, norms[:1])
			}
		}},
		{fmt.Sprintf("DenseReLU/%dx%dx%d", lm, ln, lk), 4 * lm * ln, func() {
			asm.Current().SgemmBiasReLU(1, lm, ln, lk, lx, lk, lw, lk, lbias, lh, ln, lh, ln)
		}},
		{fmt.Sprintf("BiasSgemmReLU/%dx%dx%d", lm, ln, lk), 4 * lm * ln, func() {
			for i := 0; i < lm; i++ {
				copy(lz[i*ln:(i+1)*ln], lbias)
			}
			asm.SgemmThreads(1, false, true, lm, ln, lk, 1, lx, lk, lw, lk, 1, lz, ln)
			asm.ReLU(lz, lh)
		}},
	}
	for _, c := range cases {
		for _, im := range impls(b) {
			b.Run(c.name+"/impl="+im.name, func(b *testing.B) {
				defer im.set()()
				b.SetBytes(c.bytes)
				for b.Loop() {
					c.f()
				}
			})
		}
	}
	_ = sink
}

// BenchmarkStoreBound measures the backward's k = 1 outer product of a
// 90-4096-1 step at batch 256 with one goroutine and with up to two: it
// goes parallel only because it counts as store-bound (storeBoundK; the
// same bits either way, TestStoreBoundThreadsAgree).
func BenchmarkStoreBound(b *testing.B) {
	const B, w = 256, 4096
	v, d, out := randFloats(w, 22), randFloats(B, 23), make([]float32, B*w)
	for _, t := range []int{1, 2} {
		b.Run(fmt.Sprintf("outer-k1/%dx%d/threads=%d", B, w, t), func(b *testing.B) {
			defer asm.SetMaxThreads(t)()
			b.SetBytes(4 * B * w)
			for b.Loop() {
				asm.Sgemm(false, false, B, w, 1, 1, d, 1, v, w, 0, out, w)
			}
		})
	}
}

// BenchmarkSgemmPackedB runs the rehash's products at batch 256 (and the
// 128 query projections), single thread, with B packed per call (Sgemm) and
// packed once before the loop (ISA.PackB, then SgemmPacked), on each
// assembly level: `benchstat -col /B` gives what packing the weights once
// per rehash saves, `-col /impl` the level's ratio.
func BenchmarkSgemmPackedB(b *testing.B) {
	type shape struct {
		name    string
		tB      bool
		m, n, k int
	}
	for _, s := range []shape{
		{"rehash-fwd-NT", true, 256, 1024, 1024},
		{"rehash-bwd-NN", false, 256, 1024, 1024},
		{"rehash-proj-NT", true, 256, 128, 1024},
		{"rehash-vh-NT", true, 128, 1024, 1024},
	} {
		a, bm, c := randFloats(s.m*s.k, 1), randFloats(s.k*s.n, 2), make([]float32, s.m*s.n)
		ldb := s.n
		if s.tB {
			ldb = s.k
		}
		for _, im := range impls(b) {
			if im.name == "twin" {
				continue
			}
			for _, once := range []bool{false, true} {
				mode := "per-call"
				if once {
					mode = "once"
				}
				b.Run(fmt.Sprintf("%s/%dx%dx%d/impl=%s/B=%s", s.name, s.m, s.n, s.k, im.name, mode), func(b *testing.B) {
					defer im.set()()
					defer singleThread()()
					l := asm.Current()
					var p *asm.PackedB
					if once {
						p = l.PackB(nil, s.tB, s.k, s.n, bm, ldb)
					}
					for b.Loop() {
						if once {
							l.SgemmPacked(1, false, s.m, 1, a, s.k, p, 0, c, s.n)
						} else {
							l.SgemmThreads(1, false, s.tB, s.m, s.n, s.k, 1, a, s.k, bm, ldb, 0, c, s.n)
						}
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
