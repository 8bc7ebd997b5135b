package engine

import (
	"strings"
	"testing"

	"github.com/ntklsh/ntklsh/engine/nn"
)

func residualConfig(sampler string) Config {
	c := testConfig(sampler)
	c.MultiOutput = "residual"
	return c
}

// TestMultiOutputResidualUnbiased is TestWeightedGradientUnbiased for MSE
// with 3 outputs under MultiOutput = "residual", for the two samplers that
// read the linearization (lsh with both queries and the last-layer hash,
// ntk-exact); it first checks that their rehashes do hold the
// residual-direction quantities.
func TestMultiOutputResidualUnbiased(t *testing.T) {
	ds := smallTeacher(120, 3, 3, 5)
	for _, s := range []string{SamplerLSH, SamplerNTKExact} {
		m, _ := nn.New(nn.Config{In: 3, Out: 3, Hidden: []int{4}, Activation: nn.Tanh, Seed: 2})
		tr, err := NewTrainer(testBackend, m, ds, nil, residualConfig(s))
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.rehash(); err != nil {
			t.Fatal(err)
		}
		if lin := tr.Linearization(); lin == nil || !lin.Residual() {
			t.Fatalf("%s: multi-output=residual did not give a residual-direction linearization", s)
		}
	}
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	checkWeightedGradientUnbiased(t, ds, residualConfig, []string{SamplerLSH, SamplerNTKExact})
}

func TestMultiOutputValidate(t *testing.T) {
	c := testConfig(SamplerLSH)
	c.MultiOutput = "mean"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `multi-output="mean"`) {
		t.Errorf("Validate: %v, want an error naming multi-output", err)
	}
	c.MultiOutput = "residual"
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	if !strings.Contains(c.String(), "multi-output=residual") {
		t.Errorf("String() = %q lacks multi-output=residual", c.String())
	}
}
