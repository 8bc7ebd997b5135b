package main

import (
	"math/rand/v2"
	"slices"
)

// pairSummary is what one case reports: per-pair ratios peer ÷ Go (above 1
// when Go is faster), their median with a bootstrap interval, and each
// side's best and median call time in seconds.
type pairSummary struct {
	Pairs             int
	Ratio, Lo, Hi     float64 // median ratio and its bootstrap 90 % interval
	GoWins            int     // pairs whose ratio is above 1
	GoBest, GoMed     float64
	PeerBest, PeerMed float64
}

// median returns the median of xs (the mean of the middle two for an even
// count) without reordering xs.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		panic("cblaspeer: median of nothing")
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}

// summarize pairs goT[i] with peerT[i] (seconds of the same product, run
// back to back) and bootstraps the median ratio over the pairs with
// resamples draws from a generator seeded by seed, so a report can be
// recomputed from its raw times.
func summarize(goT, peerT []float64, resamples int, seed uint64) pairSummary {
	if len(goT) != len(peerT) || len(goT) == 0 {
		panic("cblaspeer: summarize needs as many peer times as Go times, at least one")
	}
	n := len(goT)
	ratios := make([]float64, n)
	s := pairSummary{Pairs: n, GoBest: slices.Min(goT), GoMed: median(goT), PeerBest: slices.Min(peerT), PeerMed: median(peerT)}
	for i := range ratios {
		ratios[i] = peerT[i] / goT[i]
		if ratios[i] > 1 {
			s.GoWins++
		}
	}
	s.Ratio = median(ratios)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	meds := make([]float64, resamples)
	draw := make([]float64, n)
	for r := range meds {
		for i := range draw {
			draw[i] = ratios[rng.IntN(n)]
		}
		meds[r] = median(draw)
	}
	if resamples > 0 {
		slices.Sort(meds)
		s.Lo = meds[int(0.05*float64(resamples-1)+0.5)]
		s.Hi = meds[int(0.95*float64(resamples-1)+0.5)]
	}
	return s
}

// sameCodes reports whether codes hold the signs of the m×n products p
// (n a multiple of 32): bit j of codes[i·n/32 + t] set when p[i·n + 32t + j]
// > 0.
func sameCodes(p []float32, codes []uint32, n int) bool {
	for i, v := range p {
		row, col := i/n, i%n
		bit := codes[row*(n/32)+col/32]>>(col%32)&1 == 1
		if bit != (v > 0) {
			return false
		}
	}
	return true
}
