package nn

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/ntklsh/ntklsh/kernels"
)

// batchBits compares every activation, output and δ of two batches bit for
// bit and returns a description of the first difference ("" when none).
func batchBits(m *MLP, got, want *Batch, n int, withD bool) string {
	for l := 1; l <= m.Layers(); l++ {
		bufs := [][2][]float32{{got.Z[l], want.Z[l]}}
		if l < m.Layers() {
			bufs = append(bufs, [2][]float32{got.H[l], want.H[l]})
		}
		if withD {
			bufs = append(bufs, [2][]float32{got.D[l], want.D[l]})
		}
		for bi, p := range bufs {
			for i := 0; i < n*m.Sizes[l]; i++ {
				if math.Float32bits(p[0][i]) != math.Float32bits(p[1][i]) {
					return "layer " + strconv.Itoa(l) + " buffer " + strconv.Itoa(bi) + " element " + strconv.Itoa(i)
				}
			}
		}
	}
	return ""
}

// TestPackedWeights checks that a Batch using packed weights computes
// Forward, ForwardOutputs and Backward bit for bit as without them, on
// every backend that packs (and those capped to one thread), for networks
// with one to three hidden layers (a 300-wide one whose products have more
// than one k block), batches of 256 and a short last one; that the panels
// are read (weights packed from another vector, relabelled, give that
// vector's results); and that other parameters are not served from them.
func TestPackedWeights(t *testing.T) {
	tested := 0
	for _, b0 := range backends(t) {
		for _, be := range []kernels.Backend{b0, kernels.WithMaxThreads(b0, 1)} {
			if _, ok := be.(kernels.PackedProducts); !ok {
				if m, _ := New(Config{In: 2, Out: 1, Hidden: []int{2}, Seed: 1}); m.PackWeights(be, m.Params, nil, true) != nil {
					t.Fatalf("%s: PackWeights without PackedProducts", be.Name())
				}
				continue
			}
			tested++
			for _, cfg := range []Config{
				{In: 16, Out: 1, Hidden: []int{256}, Activation: ReLU, Seed: 5},
				{In: 16, Out: 1, Hidden: []int{300, 300}, Activation: ReLU, Seed: 6},
				{In: 20, Out: 3, Hidden: []int{64, 33, 40}, Activation: Tanh, Seed: 7},
			} {
				m, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				pw := m.PackWeights(be, m.Params, nil, true)
				if pw.Floats() == 0 {
					t.Fatalf("%s %v: nothing packed", be.Name(), m)
				}
				rng := rand.New(rand.NewPCG(10, 11))
				for _, n := range []int{256, 37} {
					x := randData(rng, n, cfg.In)
					ones := make([]float32, n*cfg.Out)
					for i := range ones {
						ones[i] = float32(rng.Float64() - 0.5)
					}
					got, want := m.NewBatch(256), m.NewBatch(256)
					got.UseWeights(pw)
					for _, outputsOnly := range []bool{false, true} {
						if outputsOnly {
							got.ForwardOutputs(be, m.Params, x, n)
							want.ForwardOutputs(be, m.Params, x, n)
						} else {
							got.Forward(be, m.Params, x, n)
							want.Forward(be, m.Params, x, n)
						}
						got.Backward(be, m.Params, ones)
						want.Backward(be, m.Params, ones)
						if d := batchBits(m, got, want, n, true); d != "" && !outputsOnly {
							t.Fatalf("%s %v n=%d: packed weights differ at %s", be.Name(), m, n, d)
						}
						if outputsOnly {
							for l := 1; l < m.Layers(); l++ {
								for i := 0; i < n*m.Sizes[l]; i++ {
									if math.Float32bits(got.H[l][i]) != math.Float32bits(want.H[l][i]) {
										t.Fatalf("%s %v n=%d: ForwardOutputs with packed weights differs at layer %d element %d", be.Name(), m, n, l, i)
									}
								}
							}
						}
					}

					// Weights packed from another vector (same biases),
					// relabelled as m.Params's: the results are that
					// vector's, so the panels were read.
					other := append([]float32(nil), m.Params...)
					for l := 1; l <= m.Layers(); l++ {
						w := m.WOf(other, l)
						for i := range w {
							w[i] = float32(rng.Float64() - 0.5)
						}
					}
					po := m.PackWeights(be, other, nil, true)
					po.params = m.Params
					got.UseWeights(po)
					got.Forward(be, m.Params, x, n)
					got.Backward(be, m.Params, ones)
					want.Forward(be, other, x, n)
					want.Backward(be, other, ones)
					if d := batchBits(m, got, want, n, true); d != "" {
						t.Fatalf("%s %v n=%d: the panels were not read (%s)", be.Name(), m, n, d)
					}
					// Packed again from m.Params without the backward
					// panels: Backward must not read the ones left from
					// other.
					m.PackWeights(be, m.Params, po, false)
					got.Forward(be, m.Params, x, n)
					got.Backward(be, m.Params, ones)
					want.Forward(be, m.Params, x, n)
					want.Backward(be, m.Params, ones)
					if d := batchBits(m, got, want, n, true); d != "" {
						t.Fatalf("%s %v n=%d: forward-only packing served Backward (%s)", be.Name(), m, n, d)
					}
					want.Forward(be, other, x, n)
					want.Backward(be, other, ones)
					// A vector that is not the packed one is computed from
					// itself.
					got.UseWeights(pw)
					got.Forward(be, other, x, n)
					got.Backward(be, other, ones)
					if d := batchBits(m, got, want, n, true); d != "" {
						t.Fatalf("%s %v n=%d: another parameter vector used the packed weights (%s)", be.Name(), m, n, d)
					}
				}
				// Packing again into the same PackedWeights reuses it.
				if pw2 := m.PackWeights(be, m.Params, pw, true); pw2 != pw {
					t.Fatalf("%s: PackWeights did not reuse its argument", be.Name())
				}
			}
		}
	}
	t.Logf("%d backends pack weights", tested)
}
