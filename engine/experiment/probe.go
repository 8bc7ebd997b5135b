package experiment

import (
	"math"
	"runtime"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
	"github.com/ntklsh/ntklsh/kernels"
)

// probe is a sampler that never trains: it linearizes model m at its
// current parameters when told (on the CPU, with cfg's batch and workers,
// as a trainer of cfg would) and reports its per-draw probabilities over
// every point at the current parameters.
type probe struct {
	m      *nn.MLP
	h      *ntk.Hasher
	cpu    *ntk.CPU
	lin    *ntk.Linearization
	s      sample.Sampler
	scorer *ntk.Passes
	ids    []int
	delta  []float32
}

// newProbe makes a probe of cfg.Sampler (with cfg.Hash for lsh) for m over
// train; scorer is the per-example passes of the trainer of m.
func newProbe(be kernels.Backend, m *nn.MLP, train *data.Dataset, cfg engine.Config, scorer *ntk.Passes) (*probe, error) {
	workers, batch := cfg.Workers, cfg.RehashBatch
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if batch == 0 {
		batch = 256
	}
	p := &probe{m: m, scorer: scorer, cpu: &ntk.CPU{Backend: be, Model: m, X: train.X, Y: train.Y, N: train.N,
		Options: ntk.RehashOptions{Batch: batch, Workers: workers, MultiOutput: cfg.MultiOutputMode()}}}
	if cfg.Sampler == engine.SamplerLSH {
		h, err := ntk.NewHasher(m, cfg.Hash)
		if err != nil {
			return nil, err
		}
		p.h = h
	}
	s, err := sample.New(cfg.Sampler, sample.Options{N: train.N, Eps: cfg.Eps, Prob: cfg.Prob, Backend: be, Model: m,
		Hasher: p.h, Scorer: scorer, Presample: cfg.Presample, TauThreshold: cfg.TauThreshold, Lambda: cfg.DriftLambda})
	if err != nil {
		return nil, err
	}
	p.s = s
	p.ids = make([]int, train.N)
	for i := range p.ids {
		p.ids[i] = i
	}
	return p, nil
}

// rehash linearizes at the current parameters and refits the sampler.
func (p *probe) rehash() error {
	lin, err := p.cpu.Linearize(p.m.Params, p.h, p.lin)
	if err != nil {
		return err
	}
	p.lin = lin
	return p.s.Refit(lin)
}

// probs sets out[i] to the probability that one draw picks point i; it
// reports false when there is none.
func (p *probe) probs(out []float64) bool {
	ok, err := p.s.Probs(p.m.Params, p.ids, out)
	return ok && err == nil
}

// linearizedNorms sets out[i] to |a_i|·|s_lin,i(w) − Σ_o y_io| from the
// last rehash at the current parameters w.
func (p *probe) linearizedNorms(out []float64) {
	p.delta = append(p.delta[:0], p.m.Params...)
	for i := range p.delta {
		p.delta[i] -= p.lin.W0[i]
	}
	p.scorer.Linearized(p.lin, p.delta, nil, out)
	for i, v := range out {
		out[i] = math.Abs(v)
	}
}
