package lsh

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// setting is a fixed table and query for the sampler tests.
type setting struct {
	name          string
	tb            *Tables
	query         []uint32
	eps           float64
	signSymmetric bool
}

func (s setting) String() string { return s.name }

// refProb computes P_ε from the buckets alone, independently of Prob.
func refProb(s setting) []float64 {
	tb := s.tb
	n := tb.N()
	mask := uint32(1)<<tb.K() - 1
	var buckets [][]int32
	for table, q := range s.query {
		cand := []uint32{q}
		if s.signSymmetric {
			cand = append(cand, ^q&mask)
		}
		for _, c := range cand {
			if b := tb.Bucket(table, c); len(b) > 0 {
				buckets = append(buckets, b)
			}
		}
	}
	p := make([]float64, n)
	if len(buckets) == 0 {
		for i := range p {
			p[i] = 1 / float64(n)
		}
		return p
	}
	for _, b := range buckets {
		for _, i := range b {
			p[i] += 1 / float64(len(buckets)) / float64(len(b))
		}
	}
	for i := range p {
		p[i] = (1-s.eps)*p[i] + s.eps/float64(n)
	}
	return p
}

// samplerSettings returns tables over n = 50 points and queries covering
// several K, L, ε and probing modes, including a query whose buckets are all
// empty.
func samplerSettings(t *testing.T) []setting {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 8))
	const n = 50
	var out []setting
	add := func(name string, k, l int, eps float64, sym bool) {
		codes := randomCodes(r, n, k, l)
		tb, err := Build(codes, n, k, l)
		if err != nil {
			t.Fatal(err)
		}
		// Query: point 0's codes in the first half of the tables, random
		// codes in the rest.
		q := make([]uint32, l)
		for table := range q {
			if table < (l+1)/2 {
				q[table] = codes[table]
			} else {
				q[table] = r.Uint32N(1 << k)
			}
		}
		out = append(out, setting{
			name: fmt.Sprintf("%s/K=%d,L=%d,eps=%g,sym=%v", name, k, l, eps, sym),
			tb:   tb, query: q, eps: eps, signSymmetric: sym,
		})
	}
	add("single", 2, 1, 0, false)
	add("small", 3, 4, 0, true)
	add("plus-only", 3, 4, 0.2, false)
	add("many", 4, 8, 0.05, true)
	add("wide", 6, 3, 0.3, true)
	add("covering", 1, 2, 0, true)
	add("all-uniform", 3, 2, 1, true)

	// All candidate buckets empty: codes avoid 0 and its complement 7.
	codes := make([]uint32, n*3)
	for j := range codes {
		codes[j] = 1 + r.Uint32N(6)
	}
	tb, err := Build(codes, n, 3, 3)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, setting{name: "all-empty/K=3,L=3,eps=0.1,sym=true",
		tb: tb, query: []uint32{0, 0, 0}, eps: 0.1, signSymmetric: true})
	return out
}

func TestProbMatchesReference(t *testing.T) {
	var p Prepared
	for _, s := range samplerSettings(t) {
		s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
		want := refProb(s)
		all := make([]float64, s.tb.N())
		p.ProbAll(all)
		sum := 0.0
		for i, w := range want {
			if math.Abs(all[i]-w) > 1e-15 {
				t.Errorf("%v: ProbAll[%d] = %v, reference %v", s, i, all[i], w)
			}
			if got := p.Prob(i); got != all[i] {
				t.Errorf("%v: Prob(%d) = %v, ProbAll %v", s, i, got, all[i])
			}
			sum += all[i]
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%v: Σ Prob = 1 %+g", s, sum-1)
		}
	}
}

func TestNonEmpty(t *testing.T) {
	// Table 0: codes 0,0,1; table 1: 3,3,3 (K=2).
	tb, err := Build([]uint32{0, 3, 0, 3, 1, 3}, 3, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	var p Prepared
	for _, c := range []struct {
		q    []uint32
		sym  bool
		want int
	}{
		{[]uint32{0, 3}, false, 2},
		{[]uint32{0, 3}, true, 2}, // complements 3 and 0 are empty
		{[]uint32{3, 0}, true, 2},
		{[]uint32{1, 1}, true, 1},
		{[]uint32{2, 1}, false, 0},
		{[]uint32{2, 1}, true, 1},
	} {
		tb.Prepare(&p, c.q, 0, c.sym)
		if got := p.NonEmpty(); got != c.want {
			t.Errorf("query %v sym=%v: NonEmpty = %d, want %d", c.q, c.sym, got, c.want)
		}
	}
}

const samplerDraws = 400000

func TestDrawChiSquare(t *testing.T) {
	var p Prepared
	r := rand.New(rand.NewPCG(9, 10))
	for _, s := range samplerSettings(t) {
		s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
		n := s.tb.N()
		want := make([]float64, n)
		p.ProbAll(want)

		counts := make([]int, n)
		for range samplerDraws / 2 {
			i, prob := p.Draw(r)
			if prob != want[i] {
				t.Fatalf("%v: Draw returned prob %v for %d, Prob = %v", s, prob, i, want[i])
			}
			counts[i]++
		}
		idx := make([]int, 1000)
		prob := make([]float64, len(idx))
		for range samplerDraws / 2 / len(idx) {
			p.DrawN(r, idx, prob)
			for j, i := range idx {
				if prob[j] != want[i] {
					t.Fatalf("%v: DrawN prob %v for %d, Prob = %v", s, prob[j], i, want[i])
				}
				counts[i]++
			}
		}
		if pv := chiSquareP(t, counts, want); pv < 1e-4 {
			t.Errorf("%v: chi-square p = %g", s, pv)
		}
	}
}

// TestChiSquareRejectsWrongProbabilities shows that the chi-square test of
// TestDrawChiSquare has the power to catch typical mistakes in the
// probability formula or the sampler.
func TestChiSquareRejectsWrongProbabilities(t *testing.T) {
	var s setting
	for _, c := range samplerSettings(t) {
		if c.name == "many/K=4,L=8,eps=0.05,sym=true" {
			s = c
		}
	}
	s.eps = 0.3
	var p Prepared
	s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
	if z := p.NonEmpty(); z < 4 {
		t.Fatalf("setting has only %d non-empty buckets", z)
	}
	n := s.tb.N()
	r := rand.New(rand.NewPCG(11, 12))
	counts := make([]int, n)
	for range samplerDraws {
		i, _ := p.Draw(r)
		counts[i]++
	}
	right := refProb(s)
	if pv := chiSquareP(t, counts, right); pv < 1e-4 {
		t.Fatalf("correct model rejected: p = %g", pv)
	}

	noMix := s
	noMix.eps = 0
	noSign := s
	noSign.signSymmetric = false
	pNoMix, pNoSign := refProb(noMix), refProb(noSign)
	// Forgetting 1/Z: (1−ε)Σ 1/|B| + ε/N, renormalised by chiSquareP.
	noZ := make([]float64, n)
	// Uniform over the union of the buckets instead of per-bucket 1/|B|.
	union := make([]float64, n)
	z := float64(p.NonEmpty())
	for i := range noZ {
		noZ[i] = (right[i]-s.eps/float64(n))*z + s.eps/float64(n)
		if pNoMix[i] > 0 {
			union[i] = 1 - s.eps
		}
		union[i] += s.eps / float64(n)
	}
	for name, wrong := range map[string][]float64{
		"no ε mix": pNoMix, "no 1/Z": noZ, "union": union, "no sign symmetry": pNoSign,
	} {
		if pv := chiSquareP(t, counts, wrong); pv > 1e-4 {
			t.Errorf("wrong model %q accepted: p = %g", name, pv)
		}
	}

	// A sampler that picks buckets proportionally to their size (i.e.
	// uniform over the concatenated buckets) fails against the right model.
	var total int
	for _, c := range p.nonEmpty {
		total += c.size
	}
	clear(counts)
	for range samplerDraws {
		if r.Float64() < s.eps {
			counts[r.IntN(n)]++
			continue
		}
		j := r.IntN(total)
		for _, c := range p.nonEmpty {
			if j < c.size {
				counts[s.tb.ids[c.lo+j]]++
				break
			}
			j -= c.size
		}
	}
	if pv := chiSquareP(t, counts, right); pv > 1e-4 {
		t.Errorf("size-weighted bucket sampler accepted: p = %g", pv)
	}
}

// importanceMean returns the mean and its standard error of g_I/(N·w_I)
// over draws I from p, where w is the weight function used.
func importanceMean(p *Prepared, r *rand.Rand, g []float64, draws int, weight func(i int, prob float64) float64) (mean, se float64) {
	n := float64(len(g))
	var sum, sumSq float64
	for range draws {
		i, prob := p.Draw(r)
		x := g[i] / (n * weight(i, prob))
		sum += x
		sumSq += x * x
	}
	mean = sum / float64(draws)
	variance := (sumSq - sum*mean) / float64(draws-1)
	return mean, math.Sqrt(variance / float64(draws))
}

func TestImportanceWeightsUnbiased(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	var p Prepared
	for _, s := range samplerSettings(t) {
		n := s.tb.N()
		g := make([]float64, n)
		for i := range g {
			g[i] = 2 + r.NormFloat64()
		}
		mean := 0.0
		for _, x := range g {
			mean += x / float64(n)
		}
		s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
		all := make([]float64, n)
		p.ProbAll(all)
		covered := 0.0 // (1/N) Σ_{P(i) > 0} g_i, the expectation of the estimate
		for i, x := range g {
			if all[i] > 0 {
				covered += x / float64(n)
			}
		}
		est, se := importanceMean(&p, r, g, 200000, func(_ int, prob float64) float64 { return prob })
		if math.Abs(est-covered) > 4*se {
			t.Errorf("%v: estimate %v ± %v, expectation %v", s, est, se, covered)
		}
		if s.eps > 0 || p.NonEmpty() == 0 {
			if covered != mean {
				t.Errorf("%v: some point has P = 0 although ε > 0", s)
			}
			continue
		}
		if covered != mean {
			t.Logf("%v: ε = 0 leaves points undrawable; estimate %v ± %v of covered part %v, mean %v",
				s, est, se, covered, mean)
		}
	}
}

// TestImportanceWeightTestCanFail shows the unbiasedness check detects a
// wrong weight: drawing with ε but weighting with P_0 (ε mix forgotten).
func TestImportanceWeightTestCanFail(t *testing.T) {
	var s setting
	for _, c := range samplerSettings(t) {
		if c.name == "wide/K=6,L=3,eps=0.3,sym=true" {
			s = c
		}
	}
	r := rand.New(rand.NewPCG(15, 16))
	n := s.tb.N()
	g := make([]float64, n)
	mean := 0.0
	for i := range g {
		g[i] = 2 + r.NormFloat64()
		mean += g[i] / float64(n)
	}
	var p, p0 Prepared
	s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
	s.tb.Prepare(&p0, s.query, 0, s.signSymmetric)
	est, se := importanceMean(&p, r, g, 200000, func(i int, _ float64) float64 {
		return p0.Prob(i) + 1e-3 // P_0 is 0 for points outside the buckets
	})
	if math.Abs(est-mean) <= 4*se {
		t.Errorf("weights without the ε mix passed: estimate %v ± %v, mean %v", est, se, mean)
	}
}

func TestDrawLGD(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	var p Prepared
	for _, s := range samplerSettings(t) {
		s.tb.Prepare(&p, s.query, s.eps, s.signSymmetric)
		n := s.tb.N()
		mask := uint32(1)<<s.tb.K() - 1
		// Candidate buckets in probe order (t,+), (t,−).
		var cands [][]int32
		for table, q := range s.query {
			cands = append(cands, s.tb.Bucket(table, q))
			if s.signSymmetric {
				cands = append(cands, s.tb.Bucket(table, ^q&mask))
			}
		}
		m, z := len(cands), p.NonEmpty()
		sizeCount := map[int]int{} // non-empty candidates by size
		for _, b := range cands {
			if len(b) > 0 {
				sizeCount[len(b)]++
			}
		}

		counts := make([]int, n)
		probeCounts := make([]int, m+1)
		sizeDraws := map[int]int{}
		const draws = 200000
		for range draws {
			i, size, probes := p.DrawLGD(r)
			counts[i]++
			if probes < 1 || probes > m {
				t.Fatalf("%v: %d probes, %d candidates", s, probes, m)
			}
			probeCounts[probes]++
			sizeDraws[size]++
			if z == 0 {
				if size != n || probes != m {
					t.Fatalf("%v: all empty but size %d, probes %d", s, size, probes)
				}
				continue
			}
			if probes > m-z+1 {
				t.Fatalf("%v: %d probes with %d of %d candidates non-empty", s, probes, z, m)
			}
			found := false
			for _, b := range cands {
				if len(b) == size && contains(b, int32(i)) {
					found = true
				}
			}
			if !found {
				t.Fatalf("%v: point %d not in any candidate bucket of size %d", s, i, size)
			}
		}
		if z == 0 {
			want := make([]float64, n)
			for i := range want {
				want[i] = 1
			}
			if pv := chiSquareP(t, counts, want); pv < 1e-4 {
				t.Errorf("%v: uniform fallback chi-square p = %g", s, pv)
			}
			continue
		}

		// Points: distribution P_0.
		s0 := s
		s0.eps = 0
		if pv := chiSquareP(t, counts, refProb(s0)); pv < 1e-4 {
			t.Errorf("%v: LGD point chi-square p = %g", s, pv)
		}
		// Probes: the first non-empty among m in random order is at
		// position k with probability C(m−k, z−1)/C(m, z).
		wantProbes := make([]float64, m+1)
		for k := 1; k <= m-z+1; k++ {
			wantProbes[k] = binom(m-k, z-1) / binom(m, z)
		}
		if pv := chiSquareP(t, probeCounts, wantProbes); pv < 1e-4 {
			t.Errorf("%v: probe count chi-square p = %g", s, pv)
		}
		// Bucket sizes: each non-empty candidate with probability 1/z.
		maxSize := 0
		for size := range sizeCount {
			maxSize = max(maxSize, size)
		}
		sizeObs := make([]int, maxSize+1)
		sizeWant := make([]float64, maxSize+1)
		for size, c := range sizeDraws {
			if size > maxSize {
				t.Fatalf("%v: bucket size %d larger than any candidate", s, size)
			}
			sizeObs[size] = c
		}
		for size, c := range sizeCount {
			sizeWant[size] = float64(c) / float64(z)
		}
		if pv := chiSquareP(t, sizeObs, sizeWant); pv < 1e-4 {
			t.Errorf("%v: bucket size chi-square p = %g", s, pv)
		}
	}
}

func contains(b []int32, i int32) bool {
	for _, x := range b {
		if x == i {
			return true
		}
	}
	return false
}

func binom(n, k int) float64 {
	if k < 0 || k > n {
		return 0
	}
	v := 1.0
	for j := 1; j <= k; j++ {
		v = v * float64(n-k+j) / float64(j)
	}
	return v
}

func TestNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	const n, k, l = 2000, 6, 5
	tb, err := Build(randomCodes(r, n, k, l), n, k, l)
	if err != nil {
		t.Fatal(err)
	}
	q := randomCodes(r, 1, k, l)
	var p Prepared
	tb.Prepare(&p, q, 0.1, true) // first use allocates
	idx := make([]int, 64)
	prob := make([]float64, 64)
	all := make([]float64, n)
	sink := 0.0
	for name, f := range map[string]func(){
		"Prepare":         func() { tb.Prepare(&p, q, 0.1, true) },
		"Prepare plus":    func() { tb.Prepare(&p, q, 0, false) },
		"Draw":            func() { _, pr := p.Draw(r); sink += pr },
		"DrawN":           func() { p.DrawN(r, idx, prob) },
		"Prob":            func() { sink += p.Prob(r.IntN(n)) },
		"ProbAll":         func() { p.ProbAll(all) },
		"DrawLGD":         func() { i, _, _ := p.DrawLGD(r); sink += float64(i) },
		"Prepare+DrawLGD": func() { tb.Prepare(&p, q, 0.1, true); p.DrawLGD(r) },
	} {
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s allocates %v times per run", name, a)
		}
	}
	_ = sink
}
