package main

import (
	"math"
	"testing"
)

func TestMedian(t *testing.T) {
	xs := []float64{3, 1, 2}
	if got := median(xs); got != 2 {
		t.Fatalf("median odd = %v, want 2", got)
	}
	if xs[0] != 3 {
		t.Fatal("median reordered its input")
	}
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Fatalf("median even = %v, want 2.5", got)
	}
}

func TestSummarize(t *testing.T) {
	// Go twice as fast in every pair but one: ratio 2, interval around it.
	goT := []float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 4}
	peerT := []float64{2, 2, 2, 2, 2, 2, 2, 2, 2, 2}
	s := summarize(goT, peerT, 2000, 1)
	if s.Ratio != 2 || s.GoWins != 9 || s.Pairs != 10 {
		t.Fatalf("summary %+v: want ratio 2, 9 wins of 10", s)
	}
	if !(s.Lo <= s.Ratio && s.Ratio <= s.Hi) || s.Lo < 0.5 || s.Hi > 2 {
		t.Fatalf("interval [%v, %v] does not hold the median 2 within the ratios' range", s.Lo, s.Hi)
	}
	if s.GoBest != 1 || s.GoMed != 1 || s.PeerBest != 2 || s.PeerMed != 2 {
		t.Fatalf("best/median times wrong: %+v", s)
	}
	// The interval of a median of noisy ratios covers the true median in
	// most repetitions (a loose check that the bootstrap is not degenerate).
	covered := 0
	for rep := range 200 {
		g, p := make([]float64, 25), make([]float64, 25)
		for i := range g {
			g[i] = 1
			p[i] = 1.2 * math.Exp(0.3*normal(uint64(rep*25+i)))
		}
		s := summarize(g, p, 500, uint64(rep))
		if s.Lo <= 1.2 && 1.2 <= s.Hi {
			covered++
		}
	}
	if covered < 150 || covered > 199 {
		t.Fatalf("90%% interval covered the true median in %d of 200 repetitions", covered)
	}
}

// normal is a deterministic standard normal draw (Box–Muller on a hash of i).
func normal(i uint64) float64 {
	h := func(x uint64) float64 {
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 33
		return (float64(x>>11) + 0.5) / (1 << 53)
	}
	return math.Sqrt(-2*math.Log(h(2*i+1))) * math.Cos(2*math.Pi*h(2*i+2))
}

func TestSameCodes(t *testing.T) {
	p := make([]float32, 2*64)
	codes := make([]uint32, 2*2)
	for i := range p {
		if i%3 == 0 {
			p[i] = 1
			codes[i/64*2+i%64/32] |= 1 << (i % 32)
		}
	}
	p[5] = float32(math.NaN()) // NaN: a clear bit, as in SignPack
	if !sameCodes(p, codes, 64) {
		t.Fatal("codes of the signs were not recognized")
	}
	codes[3] ^= 1 << 7
	if sameCodes(p, codes, 64) {
		t.Fatal("a flipped bit went unnoticed")
	}
}
