package nn

import (
	"math/rand/v2"
	"testing"
)

// TestForwardStep: after Forward at w and JVP along t, ForwardStep to
// w − s·t gives the outputs of a fresh Forward at w − s·t (to float32
// rounding), for every architecture (the linear model takes ż_1 from the
// JVP output) and backend.
func TestForwardStep(t *testing.T) {
	for _, be := range backends(t) {
		for _, cfg := range testConfigs {
			m, _ := New(cfg)
			rng := rand.New(rand.NewPCG(3, 4))
			n := 6
			x := randData(rng, n, cfg.In)
			tan := randData(rng, m.NumParams(), 1)
			const s = 0.05
			b := m.NewBatch(n)
			b.Forward(be, m.Params, x, n)
			jv := make([]float32, n*cfg.Out)
			b.JVP(be, m.Params, tan, jv)
			p1 := append([]float32(nil), m.Params...)
			be.Axpy(-s, tan, p1)
			b.ForwardStep(be, p1, s, jv)
			got := to64(b.Output())
			ref := m.NewBatch(n)
			ref.Forward(be, p1, x, n)
			if e := relErr(got, to64(ref.Output())); e > 1e-5 {
				t.Errorf("%s %v: ForwardStep relative error %.3g against a fresh Forward", be.Name(), m, e)
			}
		}
	}
}
