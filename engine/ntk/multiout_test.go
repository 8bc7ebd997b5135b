package ntk

import (
	"slices"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
)

// TestResidualMSEMatchesExplicit: MSE with 3 outputs under
// ResidualDirection keeps a_i = J_iᵀu_i, c_i = a_i, ρ_i = |f_i − y_i| and
// b_i = ρ_i − a_i·w0 as formed from explicit float64 Jacobians —
// GradNorm0 = |a_i|ρ_i the exact |J_iᵀr_i| at w0 — hashes the explicit
// vectors bit by bit, and its Passes.Linearized is |a|(ρ + a·δ).
func TestResidualMSEMatchesExplicit(t *testing.T) {
	checkResidualLinearization(t, nn.MSE, smallTeacher(30, 4, 3, 3))
}

// TestResidualMSEFirstOrder: q·v = |a|(ρ + a·δ) is |a|·u·(f(w) − y) — the
// gradient norm along the residual's direction at w0 — to first order in
// δ (finite differences of the network along a direction: the error falls
// 4× when δ halves), and at δ = 0 the exact gradient norm.
func TestResidualMSEFirstOrder(t *testing.T) {
	checkResidualFirstOrder(t, nn.MSE, smallTeacher(20, 3, 4, 8))
}

// TestResidualModeScope: ResidualDirection changes nothing for one output
// (the same numbers, codes and scale as the default), and the default
// SumOfLogits keeps the sum-of-logits quantities for several.
func TestResidualModeScope(t *testing.T) {
	be := testBackend
	for _, out := range []int{1, 3} {
		ds := smallTeacher(40, 3, out, 6)
		m, _ := nn.New(nn.Config{In: 3, Out: out, Hidden: []int{5}, Activation: nn.ReLU, Seed: 3})
		h, err := NewHasher(m, HashConfig{K: 4, L: 5, Family: Structured, MIPS: true, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		sum := Rehash(be, m, ds.X, ds.Y, ds.N, h, RehashOptions{Batch: 16, Workers: 2}, nil)
		res := Rehash(be, m, ds.X, ds.Y, ds.N, h, RehashOptions{Batch: 16, Workers: 2, MultiOutput: ResidualDirection}, nil)
		if sum.Residual() {
			t.Fatalf("out %d: SumOfLogits gave a residual-direction linearization", out)
		}
		same := slices.Equal(sum.ANorm, res.ANorm) && slices.Equal(sum.B, res.B) && slices.Equal(sum.F0, res.F0) &&
			slices.Equal(sum.YSum, res.YSum) && slices.Equal(sum.GradNorm0, res.GradNorm0) && slices.Equal(sum.Codes, res.Codes) && sum.M == res.M
		if out == 1 && (res.Residual() || !same) {
			t.Errorf("one output: ResidualDirection differs from the default (residual %v)", res.Residual())
		}
		if out > 1 && (!res.Residual() || same) {
			t.Errorf("%d outputs: ResidualDirection gave the sum-of-logits linearization", out)
		}
	}
}

func TestParseMultiOutput(t *testing.T) {
	for _, c := range []struct {
		s    string
		want MultiOutput
	}{{"", SumOfLogits}, {"sum", SumOfLogits}, {"residual", ResidualDirection}} {
		if got, err := ParseMultiOutput(c.s); err != nil || got != c.want {
			t.Errorf("ParseMultiOutput(%q) = %v, %v", c.s, got, err)
		}
		if c.s != "" && c.want.String() != c.s {
			t.Errorf("%v.String() = %q", c.want, c.want.String())
		}
	}
	if _, err := ParseMultiOutput("Sum"); err == nil {
		t.Error(`ParseMultiOutput("Sum"): no error`)
	}
}
