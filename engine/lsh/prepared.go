package lsh

import (
	"fmt"
	"math/rand/v2"
)

// span is a bucket as a range of Tables.ids.
type span struct {
	lo, size int
}

// Prepared holds one query's candidate buckets. The zero value is ready for
// [Tables.Prepare]; reuse it across iterations to avoid allocation. It refers
// to the Tables' storage and must be prepared again after [Tables.Rebuild].
type Prepared struct {
	t             *Tables
	eps           float64
	signSymmetric bool
	uniform       float64 // ε/N, or 1/N when Z = 0
	scale         float64 // (1−ε)/Z, or 0 when Z = 0

	qPos, qNeg     []uint16  // per table: q_t and its complement
	invPos, invNeg []float64 // per table: 1/|B_t(±q)|, 0 if empty or not probed
	nonEmpty       []span    // the Z non-empty candidates
	all            []span    // all candidates (L or 2L), for DrawLGD
	order          []int32   // permutation of all's indices, for DrawLGD
	touch          uint16    // sink of DrawN's prefetch loads
}

// Prepare sets p up for drawing with query (L codes, each < 2^K), uniform
// mixing probability eps in [0,1] and, if signSymmetric, probing of the
// complement codes (the codes of −query) as well. It panics on a query of
// the wrong length or with a too large code, or eps outside [0,1].
func (t *Tables) Prepare(p *Prepared, query []uint32, eps float64, signSymmetric bool) {
	if len(query) != t.l {
		panic(fmt.Sprintf("lsh: query has %d codes, want l = %d", len(query), t.l))
	}
	if !(eps >= 0 && eps <= 1) {
		panic(fmt.Sprintf("lsh: eps = %v outside [0,1]", eps))
	}
	l := t.l
	if cap(p.qPos) < l {
		p.qPos = make([]uint16, l)
		p.qNeg = make([]uint16, l)
		p.invPos = make([]float64, l)
		p.invNeg = make([]float64, l)
		p.nonEmpty = make([]span, 0, 2*l)
		p.all = make([]span, 0, 2*l)
		p.order = make([]int32, 2*l)
	}
	p.t, p.eps, p.signSymmetric = t, eps, signSymmetric
	p.qPos, p.qNeg = p.qPos[:l], p.qNeg[:l]
	p.invPos, p.invNeg = p.invPos[:l], p.invNeg[:l]
	p.nonEmpty, p.all = p.nonEmpty[:0], p.all[:0]
	for tb, q := range query {
		if q > t.mask {
			panic(fmt.Sprintf("lsh: query code %d in table %d is ≥ 2^%d", q, tb, t.k))
		}
		pos, neg := uint16(q), uint16(^q&t.mask)
		p.qPos[tb], p.qNeg[tb] = pos, neg
		p.invPos[tb] = p.addCandidate(tb, pos)
		p.invNeg[tb] = 0
		if signSymmetric {
			p.invNeg[tb] = p.addCandidate(tb, neg)
		}
	}
	p.order = p.order[:len(p.all)]
	for j := range p.order {
		p.order[j] = int32(j)
	}
	if z := len(p.nonEmpty); z > 0 {
		p.uniform = eps / float64(t.n)
		p.scale = (1 - eps) / float64(z)
	} else {
		p.uniform = 1 / float64(t.n)
		p.scale = 0
	}
}

// addCandidate records bucket code of table and returns 1/size (0 if empty).
func (p *Prepared) addCandidate(table int, code uint16) float64 {
	lo, hi := p.t.bucketRange(table, code)
	s := span{lo: lo, size: hi - lo}
	p.all = append(p.all, s)
	if s.size == 0 {
		return 0
	}
	p.nonEmpty = append(p.nonEmpty, s)
	return 1 / float64(s.size)
}

// NonEmpty returns Z, the number of non-empty candidate buckets.
func (p *Prepared) NonEmpty() int { return len(p.nonEmpty) }

// Draw draws a point i with probability P_ε(i) and returns it with P_ε(i).
// The work is O(L) for any N, but reading the drawn point's codes is a
// cache miss once the codes (2·N·L bytes) outgrow the cache; DrawN overlaps
// these misses and is faster for many draws.
func (p *Prepared) Draw(r *rand.Rand) (i int, prob float64) {
	i = p.drawIndex(r)
	return i, p.prob(i)
}

// drawIndex draws a point with probability P_ε(i).
func (p *Prepared) drawIndex(r *rand.Rand) int {
	z := len(p.nonEmpty)
	if z == 0 || (p.eps > 0 && r.Float64() < p.eps) {
		return r.IntN(p.t.n)
	}
	s := p.nonEmpty[r.IntN(z)]
	return int(p.t.ids[s.lo+r.IntN(s.size)])
}

// DrawN fills idx with len(idx) independent draws and prob with their
// probabilities P_ε. It panics if len(prob) != len(idx).
func (p *Prepared) DrawN(r *rand.Rand, idx []int, prob []float64) {
	if len(prob) != len(idx) {
		panic(fmt.Sprintf("lsh: DrawN with %d indices and %d probabilities", len(idx), len(prob)))
	}
	// Draw all indices first, then load the code rows of a block of draws
	// with a tight loop so their cache misses overlap, then evaluate the
	// probabilities from cache.
	for j := range idx {
		idx[j] = p.drawIndex(r)
	}
	codes, l := p.t.codes, p.t.l
	for start := 0; start < len(idx); start += drawBlock {
		block := idx[start:min(start+drawBlock, len(idx))]
		var touch uint16
		for _, i := range block {
			touch ^= codes[i*l]
		}
		p.touch = touch
		for j, i := range block {
			prob[start+j] = p.prob(i)
		}
	}
}

// drawBlock is the number of code rows DrawN loads ahead of use; 256 rows of
// at most 32 bytes fit in L1 cache.
const drawBlock = 256

// Prob returns P_ε(i), in O(L).
func (p *Prepared) Prob(i int) float64 {
	if i < 0 || i >= p.t.n {
		panic(fmt.Sprintf("lsh: point %d out of range [0,%d)", i, p.t.n))
	}
	return p.prob(i)
}

// prob returns P_ε(i) for a valid i.
func (p *Prepared) prob(i int) float64 {
	l := p.t.l
	row := p.t.codes[i*l : i*l+l]
	qPos, qNeg := p.qPos[:len(row)], p.qNeg[:len(row)]
	invPos, invNeg := p.invPos[:len(row)], p.invNeg[:len(row)]
	var sum float64
	for tb, c := range row {
		if c == qPos[tb] {
			sum += invPos[tb]
		} else if c == qNeg[tb] {
			sum += invNeg[tb] // 0 unless sign-symmetric
		}
	}
	return p.scale*sum + p.uniform
}

// ProbAll writes P_ε(i) for every point to out, in O(N·L). It panics if
// len(out) != N.
func (p *Prepared) ProbAll(out []float64) {
	if len(out) != p.t.n {
		panic(fmt.Sprintf("lsh: ProbAll output has length %d, want n = %d", len(out), p.t.n))
	}
	for i := range out {
		out[i] = p.prob(i)
	}
}

// DrawLGD draws as in LGD (Chen et al. 2019): it probes the candidate
// buckets (L, or 2L if sign-symmetric) in a uniformly random order until one
// is non-empty and returns a uniform member i of it, its size and the number
// of probes made including the successful one. If all candidates are empty
// it returns a uniform point, bucketSize N and probes = number of
// candidates. ε is not used: the draws have distribution P_0.
func (p *Prepared) DrawLGD(r *rand.Rand) (i, bucketSize, probes int) {
	m := len(p.all)
	if len(p.nonEmpty) == 0 {
		return r.IntN(p.t.n), p.t.n, m
	}
	// Partial Fisher–Yates shuffle of order. The order left over from the
	// previous draw is still a permutation, so the probe order is uniform.
	order := p.order[:m]
	for k := 0; k < m; k++ {
		j := k + r.IntN(m-k)
		order[k], order[j] = order[j], order[k]
		s := p.all[order[k]]
		if s.size > 0 {
			return int(p.t.ids[s.lo+r.IntN(s.size)]), s.size, k + 1
		}
	}
	panic("lsh: no non-empty candidate although Z > 0")
}
