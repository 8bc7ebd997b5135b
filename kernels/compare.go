package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// Timing is one kernel of Compare: the median time of a call on each of
// the two backends and the median over pairs of the per-pair ratio b ÷ a.
type Timing struct {
	Kernel string
	A, B   time.Duration
	Ratio  float64 // median of b's time ÷ a's within each pair (< 1: b faster)
}

// Compare times the engine's kernels on two backends in one process, one
// thread each, call by call: each of pairs pairs runs a then b (b then a on
// odd pairs), so that a drift of the machine's speed moves both sides of a
// pair alike. The kernels are the width-1024 training step's three
// products at batch 32, the rehash's forward product at batch 256, the
// dense first layer (256 × 1024 × 16, where both backends have it), and
// Dot, Axpy, RowSumSquares, the ReLU mask and SignPack at the engine's
// lengths. It is the measurement behind a kernel level's choice on a CPU
// that the automatic rule does not know (`ntklsh info --measure`); a
// few hundred milliseconds at pairs = 9.
func Compare(a, b Backend, pairs int) []Timing {
	if pairs < 1 {
		panic("kernels: Compare needs at least one pair")
	}
	a, b = WithMaxThreads(a, 1), WithMaxThreads(b, 1)
	rng := rand.New(rand.NewPCG(1, 2))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.Float64()*2 - 1)
		}
		return v
	}
	type kernel struct {
		name string
		reps int // calls per timing, so that a timing is tens of µs at least
		run  func(be Backend)
	}
	gemm := func(name string, tA, tB bool, m, n, k int) kernel {
		x, y, c := vec(m*k), vec(k*n), make([]float32, m*n)
		lda, ldb := k, n
		if tA {
			lda = m
		}
		if tB {
			ldb = k
		}
		return kernel{name: fmt.Sprintf("%s %dx%dx%d", name, m, n, k), reps: 1, run: func(be Backend) {
			be.Sgemm(tA, tB, m, n, k, 1, x, lda, y, ldb, 0, c, n)
		}}
	}
	x, y := vec(4096), vec(4096)
	h, g := vec(64*1024), vec(64*1024)
	out := make([]float64, 64)
	codes := make([]uint32, 512*4)
	ks := []kernel{
		gemm("step forward NT", false, true, 32, 1024, 1024),
		gemm("step input grad NN", false, false, 32, 1024, 1024),
		gemm("step weight grad TN", true, false, 1024, 1024, 32),
		gemm("rehash forward NT", false, true, 256, 1024, 1024),
		{"Dot 4096", 200, func(be Backend) { be.Dot(x, y) }},
		{"Axpy 4096", 200, func(be Backend) { be.Axpy(0.5, x, y) }},
		{"RowSumSquares 64x1024", 20, func(be Backend) { be.RowSumSquares(64, 1024, 1, h, 1024, out) }},
		{"ReLU mask 64x1024", 20, func(be Backend) { reluOf(be).ReLUMask(h, g) }},
		{"SignPack 512x(4x32)", 20, func(be Backend) { be.SignPack(512, 32, 4, h, 128, codes) }},
	}
	_, denseA := a.(DenseReLU)
	_, denseB := b.(DenseReLU)
	if denseA && denseB {
		in, w, bias := vec(256*16), vec(1024*16), vec(1024)
		z := make([]float32, 256*1024)
		ks = append(ks, kernel{"dense ReLU layer 256x1024x16", 2, func(be Backend) {
			be.(DenseReLU).LinearReLU(256, 1024, 16, in, 16, w, 16, bias, z, 1024, z, 1024)
		}})
	}
	timed := func(k kernel, be Backend) time.Duration {
		t0 := time.Now()
		for range k.reps {
			k.run(be)
		}
		return time.Since(t0) / time.Duration(k.reps)
	}
	res := make([]Timing, 0, len(ks))
	for _, k := range ks {
		k.run(a) // warm: caches, scratch buffers
		k.run(b)
		ta, tb := make([]time.Duration, pairs), make([]time.Duration, pairs)
		ratios := make([]float64, pairs)
		for p := range pairs {
			if p%2 == 0 {
				ta[p] = timed(k, a)
				tb[p] = timed(k, b)
			} else {
				tb[p] = timed(k, b)
				ta[p] = timed(k, a)
			}
			ratios[p] = float64(tb[p]) / float64(max(ta[p], 1))
		}
		slices.Sort(ta)
		slices.Sort(tb)
		slices.Sort(ratios)
		res = append(res, Timing{Kernel: k.name, A: ta[pairs/2], B: tb[pairs/2], Ratio: ratios[pairs/2]})
	}
	return res
}
