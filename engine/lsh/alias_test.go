package lsh

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestAliasChiSquare(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	skewed := make([]float64, 60)
	for i := range skewed {
		skewed[i] = math.Exp(2 * r.NormFloat64())
		if i%7 == 0 {
			skewed[i] = 0
		}
	}
	huge := []float64{math.MaxFloat64, math.MaxFloat64 / 2, 0, math.MaxFloat64 / 4}
	for _, c := range []struct {
		name    string
		weights []float64
		eps     float64
	}{
		{"skewed", skewed, 0},
		{"skewed mixed", skewed, 0.2},
		{"all uniform", skewed, 1},
		{"all zero", make([]float64, 30), 0},
		{"single", []float64{3}, 0.5},
		{"huge", huge, 0},
		{"one-hot", []float64{0, 0, 5, 0, 0}, 0.01},
	} {
		a, err := NewAlias(c.weights, c.eps)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		n := len(c.weights)
		if a.N() != n {
			t.Fatalf("%s: N = %d, want %d", c.name, a.N(), n)
		}
		// Expected probabilities computed directly.
		total, wMax := 0.0, 0.0
		for _, w := range c.weights {
			wMax = max(wMax, w)
		}
		for _, w := range c.weights {
			total += w / max(wMax, 1e-300)
		}
		want := make([]float64, n)
		sum := 0.0
		for i, w := range c.weights {
			if total == 0 {
				want[i] = 1 / float64(n)
			} else {
				want[i] = (1-c.eps)*(w/wMax)/total + c.eps/float64(n)
			}
			if got := a.Prob(i); math.Abs(got-want[i]) > 1e-15 {
				t.Errorf("%s: Prob(%d) = %v, want %v", c.name, i, got, want[i])
			}
			sum += a.Prob(i)
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: Σ Prob = 1 %+g", c.name, sum-1)
		}
		counts := make([]int, n)
		for range 300000 {
			i, prob := a.Draw(r)
			if prob != a.Prob(i) {
				t.Fatalf("%s: Draw prob %v, Prob(%d) = %v", c.name, prob, i, a.Prob(i))
			}
			counts[i]++
		}
		if pv := chiSquareP(t, counts, want); pv < 1e-4 {
			t.Errorf("%s: chi-square p = %g", c.name, pv)
		}
		if c.name == "skewed" {
			// Power check: the same draws against the ε-mixed model fail.
			mixed, _ := NewAlias(c.weights, 0.2)
			wrong := make([]float64, n)
			for i := range wrong {
				wrong[i] = mixed.Prob(i)
			}
			if pv := chiSquareP(t, counts, wrong); pv > 1e-4 {
				t.Errorf("skewed draws accepted against ε = 0.2 model: p = %g", pv)
			}
		}
	}
}

func TestAliasErrors(t *testing.T) {
	for _, c := range []struct {
		name    string
		weights []float64
		eps     float64
		msg     string
	}{
		{"empty", nil, 0, "at least one"},
		{"negative", []float64{1, -1}, 0, "weight 1"},
		{"NaN", []float64{nan(), 1}, 0, "weight 0"},
		{"Inf", []float64{1, math.Inf(1)}, 0, "weight 1"},
		{"-Inf", []float64{math.Inf(-1)}, 0, "weight 0"},
		{"eps<0", []float64{1}, -0.1, "eps"},
		{"eps>1", []float64{1}, 1.1, "eps"},
		{"eps NaN", []float64{1}, nan(), "eps"},
	} {
		a, err := NewAlias(c.weights, c.eps)
		if err == nil || a != nil {
			t.Errorf("%s: NewAlias = %v, %v; want error", c.name, a, err)
			continue
		}
		if !strings.HasPrefix(err.Error(), "lsh: ") || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.msg)
		}
	}
	// A failed Reset leaves the table unchanged.
	a, err := NewAlias([]float64{1, 3}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Reset([]float64{1, -3, 2}, 0); err == nil {
		t.Error("Reset with a negative weight: no error")
	}
	if a.N() != 2 || a.Prob(1) != 0.75 {
		t.Errorf("after failed Reset: N = %d, Prob(1) = %v", a.N(), a.Prob(1))
	}
}

func TestAliasNoAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	w := make([]float64, 1000)
	for i := range w {
		w[i] = r.Float64()
	}
	a, err := NewAlias(w, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	sink := 0.0
	if n := testing.AllocsPerRun(20, func() {
		if err := a.Reset(w[:500], 0.3); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Reset allocates %v times", n)
	}
	if n := testing.AllocsPerRun(100, func() { _, p := a.Draw(r); sink += p + a.Prob(3) }); n != 0 {
		t.Errorf("Draw allocates %v times", n)
	}
	_ = sink
}
