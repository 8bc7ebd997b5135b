package asm

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// firstBitDiff reports the first element where x and y differ bit for bit (-1:
// none).
func firstBitDiff(x, y []float32) int {
	for i := range x {
		if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
			return i
		}
	}
	return -1
}

// packedCases are shapes on every side of the driver's choices: m = 1 and
// n = 1 (gemv), the small-m paths of nopack.go (m ≤ 64), n ≤ 16 (the
// narrow tile on AVX-512), edge panels, more than one k block, more than
// one nc block.
var packedCases = [][3]int{
	{1, 40, 30}, {37, 1, 300}, {2, 2, 1}, {5, 17, 9}, {13, 16, 40}, {30, 15, 260},
	{64, 130, 300}, {65, 130, 300}, {130, 33, 513}, {130, 100, 256}, {200, 64, 600},
	{20, 2048, 100}, // split by columns over goroutines (threads 3), panels from j0 > 0
	{7, ncBlock + 21, 9},
}

// TestSgemmPackedIsSgemm checks SgemmPacked and SgemmBiasReLUPacked
// against Sgemm and SgemmBiasReLU bit for bit (guards and gaps included) on
// every path, transposes, scalars and thread counts, one PackedB reused
// across products with different A and m.
func TestSgemmPackedIsSgemm(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	rng := rand.New(rand.NewPCG(31, 32))
	cases := packedCases
	if testing.Short() {
		cases = cases[:len(cases)-1]
	}
	for _, l := range paths(t) {
		for ci, s := range cases {
			for tr := 0; tr < 4; tr++ {
				gc := gemmCase{transA: tr&1 != 0, transB: tr&2 != 0, m: s[0], n: s[1], k: s[2], padA: 2, padB: 3, padC: 1, off: (ci + tr) % 8}
				o := makeGemm(rng, gc)
				p := l.PackB(nil, gc.transB, gc.k, gc.n, o.b, o.ldb)
				for round, ab := range [][2]float32{{1, 0}, {-0.5, 1}, {1, -0.5}, {0, 1}} {
					gc.alpha, gc.beta = ab[0], ab[1]
					// Another A and m for the same B: the panels do not depend on A.
					gc.m = s[0] + round%2
					gc.off = (ci + tr + round) % 8
					q := makeGemm(rng, gc)
					for _, th := range []int{1, 3} {
						want := append([]float32(nil), q.cbuf...)
						got := append([]float32(nil), q.cbuf...)
						wc, gcv := want[len(q.cbuf)-len(q.c)-guard:], got[len(q.cbuf)-len(q.c)-guard:]
						l.SgemmThreads(th, gc.transA, gc.transB, gc.m, gc.n, gc.k, gc.alpha, q.a, q.lda, o.b, o.ldb, gc.beta, wc, q.ldc)
						l.SgemmPacked(th, gc.transA, gc.m, gc.alpha, q.a, q.lda, p, gc.beta, gcv, q.ldc)
						if i := firstBitDiff(got, want); i >= 0 {
							t.Fatalf("%s %v threads=%d: SgemmPacked element %d of the buffer %v, Sgemm %v", l, gc, th, i, got[i], want[i])
						}
					}
				}
			}
			// The dense ReLU layer: B is the weights (n×k), transposed.
			gc := gemmCase{transB: true, m: s[0], n: s[1], k: s[2], padA: 1, padB: 2, padC: 3, off: ci % 8}
			o := makeGemm(rng, gc)
			p := l.PackB(nil, true, gc.k, gc.n, o.b, o.ldb)
			bias := randVec(rng, gc.n, ci%5)
			for _, th := range []int{1, 3} {
				zw, hw := append([]float32(nil), o.c...), append([]float32(nil), o.c...)
				zg, hg := append([]float32(nil), o.c...), append([]float32(nil), o.c...)
				l.SgemmBiasReLU(th, gc.m, gc.n, gc.k, o.a, o.lda, o.b, o.ldb, bias, zw, o.ldc, hw, o.ldc)
				l.SgemmBiasReLUPacked(th, gc.m, o.a, o.lda, p, bias, zg, o.ldc, hg, o.ldc)
				if i := firstBitDiff(zg, zw); i >= 0 {
					t.Fatalf("%s %v threads=%d: SgemmBiasReLUPacked z[%d] %v, SgemmBiasReLU %v", l, gc, th, i, zg[i], zw[i])
				}
				if i := firstBitDiff(hg, hw); i >= 0 {
					t.Fatalf("%s %v threads=%d: SgemmBiasReLUPacked h[%d] %v, SgemmBiasReLU %v", l, gc, th, i, hg[i], hw[i])
				}
			}
		}
	}
}

// TestSgemmPackedReadsPanels checks that the panels are what the packed
// path reads, and that the other paths read b: with the panels of another
// matrix B′ copied into p, SgemmPacked must give Sgemm's result with B′
// where the product packs B (large m, n ≥ 2) and Sgemm's with B where it
// does not (m = 1, n = 1, the small-m paths on AVX-512). Without this, a
// SgemmPacked that never used its panels would pass the test above.
func TestSgemmPackedReadsPanels(t *testing.T) {
	rng := rand.New(rand.NewPCG(33, 34))
	restore := SetMaxThreads(1)
	defer restore()
	type probe struct {
		tA, tB  bool
		m, n, k int
		panels  bool // expected to read the panels
	}
	for _, l := range paths(t) {
		probes := []probe{
			{false, true, 130, 33, 300, true}, {false, false, 130, 100, 513, true}, {true, false, 70, 17, 40, true},
			{true, true, 200, 64, 257, true}, {false, true, 130, 16, 40, true},
			{false, true, 1, 40, 300, false}, {false, false, 37, 1, 300, false},
		}
		if l == AVX512 {
			// nopack.go's small-m NT (dot) and NN (ldb) paths read B in place.
			probes = append(probes, probe{false, true, 32, 256, 512, false}, probe{false, false, 32, 64, 100, false})
		}
		for _, pr := range probes {
			gc := gemmCase{transA: pr.tA, transB: pr.tB, m: pr.m, n: pr.n, k: pr.k, alpha: 1, padA: 1, padB: 2, padC: 1}
			o := makeGemm(rng, gc)
			other := makeGemm(rng, gc) // B′: same shape and ldb
			p := l.PackB(nil, pr.tB, pr.k, pr.n, o.b, o.ldb)
			p2 := l.PackB(nil, pr.tB, pr.k, pr.n, other.b, other.ldb)
			if len(p.data) != len(p2.data) {
				t.Fatalf("%s %v: panel lengths %d and %d", l, gc, len(p.data), len(p2.data))
			}
			if pr.panels && len(p.data) == 0 {
				t.Fatalf("%s %v: nothing packed", l, gc)
			}
			copy(p.data, p2.data)
			withB := make([]float32, len(o.c))
			withOther := make([]float32, len(o.c))
			got := make([]float32, len(o.c))
			l.SgemmThreads(1, pr.tA, pr.tB, pr.m, pr.n, pr.k, 1, o.a, o.lda, o.b, o.ldb, 0, withB, o.ldc)
			l.SgemmThreads(1, pr.tA, pr.tB, pr.m, pr.n, pr.k, 1, o.a, o.lda, other.b, other.ldb, 0, withOther, o.ldc)
			l.SgemmPacked(1, pr.tA, pr.m, 1, o.a, o.lda, p, 0, got, o.ldc)
			want, which := withB, "B (in place)"
			if pr.panels {
				want, which = withOther, "the panels"
			}
			if i := firstBitDiff(got, want); i >= 0 {
				t.Fatalf("%s %v: element %d is %v, want %v from %s", l, gc, i, got[i], want[i], which)
			}
		}
	}
}

// TestSgemmPackedShared runs one PackedB from several goroutines at once
// (the rehash's workers share the weights' panels); under -race the
// driver's annotations report the panels as read, so a product racing a
// PackB into them would be caught.
func TestSgemmPackedShared(t *testing.T) {
	rng := rand.New(rand.NewPCG(35, 36))
	const m, n, k = 70, 96, 300
	for _, l := range paths(t) {
		b := randVec(rng, n*k, 0)
		p := l.PackB(nil, true, k, n, b, k)
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for w := 0; w < 4; w++ {
			a := randVec(rng, m*k, w)
			wg.Add(1)
			go func() {
				defer wg.Done()
				want, got := make([]float32, m*n), make([]float32, m*n)
				l.SgemmThreads(1, false, true, m, n, k, 1, a, k, b, k, 0, want, n)
				for range 3 {
					l.SgemmPacked(2, false, m, 1, a, k, p, 0, got, n)
					if i := firstBitDiff(got, want); i >= 0 {
						errs <- l.String()
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatalf("%s: a shared PackedB gave another result than Sgemm", e)
		}
	}
}

// TestSgemmPackedAllocs: products on a PackedB allocate nothing, and
// packing again into one of the same size reuses its buffer.
func TestSgemmPackedAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	rng := rand.New(rand.NewPCG(37, 38))
	restore := SetMaxThreads(1)
	defer restore()
	a, b, c := randVec(rng, 80*300, 0), randVec(rng, 300*50, 0), make([]float32, 80*50)
	for _, l := range paths(t) {
		p := l.PackB(nil, true, 300, 50, b, 300)
		if n := testing.AllocsPerRun(10, func() { l.SgemmPacked(1, false, 80, 1, a, 300, p, 0, c, 50) }); n != 0 {
			t.Fatalf("%s: %v allocations per SgemmPacked", l, n)
		}
		if n := testing.AllocsPerRun(10, func() { l.PackB(p, true, 300, 50, b, 300) }); n != 0 {
			t.Fatalf("%s: %v allocations per PackB into a PackedB of the same size", l, n)
		}
	}
}

// TestPackedBPanics: a PackedB of another level, or nil, is a programmer
// error, as is a dense layer's B not packed transposed.
func TestPackedBPanics(t *testing.T) {
	b := make([]float32, 64*64)
	c := make([]float32, 64*64)
	p := Go.PackB(nil, false, 64, 64, b, 64)
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Fatalf("%s did not panic", name)
			}
		}()
		f()
	}
	for _, l := range paths(t) {
		if l != Go {
			mustPanic(l.String()+" on Go's panels", func() { l.SgemmPacked(1, false, 64, 1, b, 64, p, 0, c, 64) })
		}
	}
	mustPanic("nil PackedB", func() { Go.SgemmPacked(1, false, 64, 1, b, 64, nil, 0, c, 64) })
	mustPanic("dense layer on NN panels", func() { Go.SgemmBiasReLUPacked(1, 64, b, 64, p, b[:64], c, 64, c, 64) })
	mustPanic("short B", func() { Go.PackB(nil, false, 64, 64, b[:100], 64) })
}
