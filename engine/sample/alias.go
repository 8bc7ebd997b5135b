package sample

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/ntklsh/ntklsh/engine/lsh"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// aliasSampler draws from an alias table over per-point scores: the exact
// gradient norms at w0 (ntk-static, built once per rehash) or scores
// recomputed over all N at every step (ntk-exact, true, loss).
type aliasSampler struct {
	kind   string
	n      int
	eps    float64
	scorer Scorer
	lin    *ntk.Linearization
	delta  []float32 // w − w0 (ntk-exact)
	alias  *lsh.Alias
	scores []float64
}

func (s *aliasSampler) NeedsLinearization() bool {
	return s.kind == NTKStatic || s.kind == NTKExact
}

func (s *aliasSampler) reset(scores []float64) error {
	for i, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("sampler %s: score of point %d is %v", s.kind, i, v)
		}
	}
	if s.alias == nil {
		a, err := lsh.NewAlias(scores, s.eps)
		s.alias = a
		return err
	}
	return s.alias.Reset(scores, s.eps)
}

// refresh rescores every point at params (all but ntk-static).
func (s *aliasSampler) refresh(params []float32) error {
	if s.kind == NTKStatic {
		if s.alias == nil {
			return errors.New("sampler ntk-static: no linearization yet")
		}
		return nil
	}
	if len(s.scores) != s.n {
		s.scores = make([]float64, s.n)
	}
	switch s.kind {
	case True:
		s.scorer.GradNorms(params, nil, s.scores)
	case Loss:
		s.scorer.Losses(params, nil, s.scores)
	case NTKExact:
		if s.lin == nil {
			return errors.New("sampler ntk-exact: no linearization yet")
		}
		s.delta = resize(s.delta, len(params))
		for i := range s.delta {
			s.delta[i] = params[i] - s.lin.W0[i]
		}
		s.scorer.Linearized(s.lin, s.delta, nil, s.scores)
		for i, v := range s.scores {
			s.scores[i] = math.Abs(v)
		}
	}
	return s.reset(s.scores)
}

func (s *aliasSampler) Refit(lin *ntk.Linearization) error {
	s.lin = lin
	if s.kind == NTKStatic {
		return s.reset(lin.GradNorm0)
	}
	return nil
}

func (s *aliasSampler) Draw(rng *rand.Rand, params []float32, idx []int, w []float64) error {
	if err := s.refresh(params); err != nil {
		return err
	}
	n := float64(s.n)
	for k := range idx {
		i, p := s.alias.Draw(rng)
		idx[k], w[k] = i, 1/(n*p)
	}
	return nil
}

func (s *aliasSampler) Probs(params []float32, ids []int, out []float64) (bool, error) {
	if err := s.refresh(params); err != nil {
		return false, err
	}
	for k, i := range ids {
		out[k] = s.alias.Prob(i)
	}
	return true, nil
}
