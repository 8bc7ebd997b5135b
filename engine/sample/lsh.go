package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/lsh"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

// lshSampler is the paper's sampler: one query hash per minibatch, then B
// draws from the tables, with the exact probability (or LGD's estimate).
type lshSampler struct {
	n      int
	eps    float64
	lgd    bool
	be     kernels.Backend
	h      *ntk.Hasher
	scorer Scorer
	qp     QueryProjector

	lin    *ntk.Linearization
	tables *lsh.Tables
	prep   lsh.Prepared
	query  []uint32
	proj   []float32 // raw query projections from qp
	delta  []float32 // w − w0
	qs     *ntk.QueryScratch

	nonEmpty int
	// Query reuse (Options.QueryEvery): every > 1 serves that many draws
	// from one query; served counts them, cached says prep holds a query
	// for the current tables.
	every, served int
	cached        bool
	// LGD estimate scratch
	lgdBucket, lgdProbes []int
	lgdCos               []float64
}

func newLSH(o Options) *lshSampler {
	return &lshSampler{n: o.N, eps: o.Eps, lgd: o.Prob == ProbLGD, be: o.Backend, h: o.Hasher, scorer: o.Scorer,
		query: make([]uint32, o.Hasher.Cfg.L), proj: make([]float32, o.Hasher.KL()),
		delta: make([]float32, o.Model.NumParams()), qs: o.Hasher.NewQueryScratch(o.Model), every: o.QueryEvery}
}

func (s *lshSampler) QueryCache() ([]uint32, int) {
	if s.every <= 1 || !s.cached {
		return nil, 0
	}
	return append([]uint32(nil), s.query...), s.served
}

// SetQueryCache restores a cached query. Without tables (the next draw
// comes after a Refit, which drops any cached query) it does nothing.
func (s *lshSampler) SetQueryCache(codes []uint32, served int) error {
	if s.every <= 1 {
		return errors.New("sampler lsh: a cached query, but no query reuse (query-every ≤ 1)")
	}
	if s.tables == nil {
		return nil
	}
	if len(codes) != len(s.query) || served < 0 || served > s.every {
		return fmt.Errorf("sampler lsh: cached query of %d codes, %d draws served; want %d codes, at most %d draws", len(codes), served, len(s.query), s.every)
	}
	limit := uint32(1) << s.h.Cfg.K
	for _, c := range codes {
		if c >= limit {
			return fmt.Errorf("sampler lsh: cached query code %d outside [0, 2^K)", c)
		}
	}
	copy(s.query, codes)
	s.tables.Prepare(&s.prep, s.query, s.eps, s.h.Cfg.SignSymmetric)
	s.nonEmpty = s.prep.NonEmpty()
	s.served, s.cached = served, true
	return nil
}

func (s *lshSampler) NeedsLinearization() bool           { return true }
func (s *lshSampler) NonEmpty() int                      { return s.nonEmpty }
func (s *lshSampler) SetQueryProjector(q QueryProjector) { s.qp = q }

func (s *lshSampler) Refit(lin *ntk.Linearization) error {
	s.lin = lin
	var err error
	if s.tables == nil {
		s.tables, err = lsh.Build(lin.Codes, s.n, s.h.Cfg.K, s.h.Cfg.L)
	} else {
		err = s.tables.Rebuild(lin.Codes)
	}
	s.cached = false
	return err
}

// prepare hashes the query at params and prepares the tables' draws. It
// leaves w − w0 in s.delta when the query or the LGD estimate needs it.
func (s *lshSampler) prepare(params []float32) error {
	if s.tables == nil {
		return errors.New("sampler lsh: no linearization yet")
	}
	if s.qp == nil && s.h.NeedsDelta() || s.lgd {
		w0 := s.lin.W0
		for i := range s.delta {
			s.delta[i] = params[i] - w0[i]
		}
	}
	if s.qp != nil {
		if err := s.qp.Query(s.h, s.lin.W0, s.proj); err != nil {
			return fmt.Errorf("device query: %w", err)
		}
		s.h.FinishQuery(s.be, s.proj, s.query)
	} else {
		s.h.QueryCodes(s.be, params, s.delta, s.qs, s.query)
	}
	s.tables.Prepare(&s.prep, s.query, s.eps, s.h.Cfg.SignSymmetric)
	s.nonEmpty = s.prep.NonEmpty()
	return nil
}

func (s *lshSampler) Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	if s.every <= 1 || s.lgd || !s.cached || s.served >= s.every {
		if err := s.prepare(params); err != nil {
			return err
		}
		s.served, s.cached = 0, true
	}
	s.served++
	n := float64(s.n)
	if !s.lgd {
		// DrawN draws the whole minibatch first, then reads the drawn
		// points' codes together, which overlaps their cache misses.
		s.prep.DrawN(rng, idx, w)
		for k, p := range w {
			w[k] = 1 / (n * p)
		}
		return nil
	}
	// LGD (Chen et al. 2019): probe (table, sign) in random order until a
	// non-empty bucket; estimate p = cp^K (1−cp^K)^(probes−1) / |bucket|
	// with cp = 1 − θ/π the SRP collision probability of the angle between
	// query and data vector. Biased: the estimate is not the probability
	// of the draw.
	eps := s.eps
	B := len(idx)
	s.lgdBucket = resize(s.lgdBucket, B)
	s.lgdProbes = resize(s.lgdProbes, B)
	for k := range idx {
		if rng.Float64() < eps {
			idx[k], s.lgdBucket[k], s.lgdProbes[k] = rng.IntN(s.n), 0, 0
			continue
		}
		idx[k], s.lgdBucket[k], s.lgdProbes[k] = s.prep.DrawLGD(rng)
	}
	s.lgdCos = resize(s.lgdCos, B)
	cos := s.lgdCos
	s.linearizedCosines(params, idx, cos)
	K := float64(s.h.Cfg.K)
	for k, i := range idx {
		var p float64
		if s.lgdBucket[k] > 0 {
			c := cos[k]
			if !s.matchesQuery(i) {
				c = -c
			}
			cp := 1 - math.Acos(math.Max(-1, math.Min(1, c)))/math.Pi
			pk := math.Pow(cp, K)
			p = pk * math.Pow(1-pk, float64(s.lgdProbes[k]-1)) / float64(s.lgdBucket[k])
		}
		p = (1-eps)*p + eps/n
		w[k] = 1 / (n * p)
	}
	return nil
}

// linearizedCosines returns, for the drawn points, the cosine between the
// query and each hashed data vector (after the Simple-LSH transform when on):
// q·v_i / (|q|·|v_i|), or q·v_i / (|q|·M) with MIPS, into qv[k] for
// i = idx[k] (len(qv) ≥ len(idx)). s.delta must hold w − w0.
func (s *lshSampler) linearizedCosines(params []float32, idx []int, qv []float64) {
	qv = qv[:len(idx)]
	s.scorer.Linearized(s.lin, s.delta, idx, qv)
	qn := s.h.QueryNorm(params, s.delta)
	for k, i := range idx {
		den := s.lin.M
		if !s.h.Cfg.MIPS {
			den = s.h.VectorNorm(s.lin, i)
		}
		if den == 0 {
			qv[k] = 0
			continue
		}
		qv[k] /= qn * den
	}
}

// matchesQuery says whether point i shares a bucket with +q in some table
// (else it was drawn from a −q bucket).
func (s *lshSampler) matchesQuery(i int) bool {
	for tb, q := range s.query {
		if s.tables.Code(i, tb) == q {
			return true
		}
	}
	return false
}

// Probs gives the probabilities of the next draw: with query reuse, those
// of the cached query while it serves (asking does not change what Draw
// will do).
func (s *lshSampler) Probs(params []float32, ids []int, out []float64) (bool, error) {
	if s.every <= 1 || s.lgd || !s.cached || s.served >= s.every {
		if err := s.prepare(params); err != nil {
			return false, err
		}
		if s.every > 1 {
			// Draw makes this same query at the same parameters.
			s.served, s.cached = s.every, true
		}
	}
	for k, i := range ids {
		out[k] = s.prep.Prob(i)
	}
	return true, nil
}
