package sample

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ntklsh/ntklsh/engine/ntk"
	"gonum.org/v1/gonum/stat/distuv"
)

// chiSquareP is Pearson's goodness-of-fit p-value of counts against
// probabilities want, cells with expected count below 5 pooled (a twin of
// engine/lsh's test helper).
func chiSquareP(counts []int, want []float64) float64 {
	draws := 0
	for _, c := range counts {
		draws += c
	}
	stat, cells := 0.0, 0
	var po, pe float64
	for i, c := range counts {
		e := want[i] * float64(draws)
		switch {
		case e == 0 && c > 0:
			return 0
		case e == 0:
		case e < 5:
			po += float64(c)
			pe += e
		default:
			d := float64(c) - e
			stat += d * d / e
			cells++
		}
	}
	if pe > 0 {
		stat += (po - pe) * (po - pe) / pe
		cells++
	}
	if cells < 2 {
		return 1
	}
	return distuv.ChiSquared{K: float64(cells - 1)}.Survival(stat)
}

// driftLin is a hand-made linearization of n points with w0 = 0 in P
// dimensions: |a_i| and |∇ℓ_i(w0)| heavy-tailed, some zero.
func driftLin(n, P int, seed uint64) *ntk.Linearization {
	r := rand.New(rand.NewPCG(seed, 9))
	lin := &ntk.Linearization{N: n, W0: make([]float32, P), ANorm: make([]float64, n), GradNorm0: make([]float64, n)}
	for i := 0; i < n; i++ {
		lin.ANorm[i] = math.Exp(r.NormFloat64())
		if i%7 != 3 {
			lin.GradNorm0[i] = lin.ANorm[i] * math.Abs(r.NormFloat64())
		}
	}
	return lin
}

// TestDriftProbabilities: p_i follows the stated formula
// (1−ε)(s1_i + λ|w−w0|s2_i)/(m1 + λ|w−w0|m2) + ε/N, sums to one, and the
// draws follow it (chi-square) at w = w0 and away from it.
func TestDriftProbabilities(t *testing.T) {
	const n, P = 60, 5
	lin := driftLin(n, P, 1)
	for _, lam := range []float64{0.02, 0.5} {
		s, err := New(NTKDrift, Options{N: n, Eps: 0.1, Lambda: lam})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Refit(lin); err != nil {
			t.Fatal(err)
		}
		for _, dist := range []float64{0, 1, 30} {
			params := make([]float32, P)
			params[2] = float32(dist) // |w − w0| = dist
			var m1, m2 float64
			for i := 0; i < n; i++ {
				m1 += lin.GradNorm0[i]
				m2 += lin.ANorm[i] * lin.ANorm[i]
			}
			c := lam * dist
			want := make([]float64, n)
			ids := make([]int, n)
			for i := range want {
				ids[i] = i
				want[i] = 0.9*(lin.GradNorm0[i]+c*lin.ANorm[i]*lin.ANorm[i])/(m1+c*m2) + 0.1/n
			}
			got := make([]float64, n)
			if ok, err := s.Probs(params, ids, got); !ok || err != nil {
				t.Fatal(ok, err)
			}
			sum := 0.0
			for i := range got {
				sum += got[i]
				if math.Abs(got[i]-want[i]) > 1e-12 {
					t.Fatalf("λ=%g |Δw|=%g: p_%d = %g, want %g", lam, dist, i, got[i], want[i])
				}
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("probabilities sum to %g", sum)
			}
			rng := rand.New(rand.NewPCG(uint64(dist)+7, 3))
			counts := make([]int, n)
			idx, w := make([]int, 50), make([]float64, 50)
			for range 4000 {
				if err := s.Draw(rng, params, idx, w); err != nil {
					t.Fatal(err)
				}
				for k, i := range idx {
					counts[i]++
					if math.Abs(w[k]-1/(n*want[i])) > 1e-9*w[k] {
						t.Fatalf("weight %g of point %d, want %g", w[k], i, 1/(n*want[i]))
					}
				}
			}
			if p := chiSquareP(counts, want); p < 1e-4 {
				t.Errorf("λ=%g |Δw|=%g: draws differ from the probabilities, chi-square p = %g", lam, dist, p)
			}
		}
	}
}

// TestDriftUnbiased: the importance-weighted mean of a per-point quantity
// over a minibatch matches its mean over the data set.
func TestDriftUnbiased(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte-Carlo test")
	}
	const n, P = 50, 3
	lin := driftLin(n, P, 2)
	r := rand.New(rand.NewPCG(3, 4))
	g := make([]float64, n)
	mean := 0.0
	for i := range g {
		g[i] = lin.GradNorm0[i] + 0.3*lin.ANorm[i]*r.NormFloat64()
		mean += g[i] / n
	}
	s, _ := New(NTKDrift, Options{N: n, Eps: 0.05, Lambda: 0.1})
	if err := s.Refit(lin); err != nil {
		t.Fatal(err)
	}
	params := []float32{1, -2, 0.5}
	const B, draws = 4, 200000
	idx, w := make([]int, B), make([]float64, B)
	var sum, sum2 float64
	for range draws {
		if err := s.Draw(r, params, idx, w); err != nil {
			t.Fatal(err)
		}
		x := 0.0
		for k, i := range idx {
			x += w[k] * g[i] / B
		}
		sum += x
		sum2 += x * x
	}
	est := sum / draws
	se := math.Sqrt((sum2/draws - est*est) / draws)
	if math.Abs(est-mean) > 4.5*se {
		t.Errorf("weighted mean %v ± %v, true mean %v", est, se, mean)
	}
}

// TestDriftFitLambda: the auto mode picks, at the second refit, the λ of
// the grid whose mixture best matches the new gradient norms: a large one
// when the norms grew like |a_i|² and λ = 0 when they did not change.
func TestDriftFitLambda(t *testing.T) {
	const n, P = 200, 4
	lin0 := driftLin(n, P, 5)
	for _, tc := range []struct {
		grow   bool
		lo, hi float64
	}{{false, 0, 0.002}, {true, 0.2, 1}} {
		s, _ := New(NTKDrift, Options{N: n, Eps: 0.1, Lambda: -1})
		ds := s.(*driftSampler)
		if err := s.Refit(lin0); err != nil {
			t.Fatal(err)
		}
		if ds.Lambda() != DefaultDriftLambda {
			t.Fatalf("first period λ = %g", ds.Lambda())
		}
		lin1 := &ntk.Linearization{N: n, W0: []float32{1, 0, 0, 0}, ANorm: lin0.ANorm, GradNorm0: make([]float64, n)}
		for i := range lin1.GradNorm0 {
			lin1.GradNorm0[i] = lin0.GradNorm0[i]
			if tc.grow {
				lin1.GradNorm0[i] += 0.5 * lin0.ANorm[i] * lin0.ANorm[i] // |Δw| = 1
			}
		}
		if err := s.Refit(lin1); err != nil {
			t.Fatal(err)
		}
		if l := ds.Lambda(); l < tc.lo || l > tc.hi {
			t.Errorf("grow=%v: fitted λ = %g, want in [%g, %g]", tc.grow, l, tc.lo, tc.hi)
		}
	}
}

func TestDistSq(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 31, 33, 255, 256, 257, 1000, 18433} {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			d := float64(a[i]) - float64(b[i])
			want += d * d
		}
		if got := distSq(a, b); math.Abs(got-want) > 1e-5*(1+want) {
			t.Errorf("n=%d: %g, want %g", n, got, want)
		}
	}
}
