package engine

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
)

// ratioAll is Σ g²/p ÷ (N Σ g²) over all points.
func ratioAll(g, p []float64) float64 {
	var a, b float64
	for i, v := range g {
		a += v * v / p[i]
		b += v * v
	}
	return a / (float64(len(g)) * b)
}

// estimator returns one estimate of the ratio from a random subset.
type estimator struct {
	name string
	est  func(r *rand.Rand) (ratio, lo, hi float64)
}

// TestDiagSubsetMeasurement measures, on heavy-tailed teacher data, the bias
// and spread over random subsets of the diagnostics' estimators of the
// second-moment ratio against its value on all points. Run with
// NTKLSH_DIAG_MEASURE=1 go test ./engine -run DiagSubsetMeasurement -v.
func TestDiagSubsetMeasurement(t *testing.T) {
	if testing.Short() || os.Getenv("NTKLSH_DIAG_MEASURE") == "" {
		t.Skip("measurement: set NTKLSH_DIAG_MEASURE=1")
	}
	const N, n, reps = 50000, 1000, 400
	for _, dof := range []float64{2, 3} {
		ds, err := data.Teacher(data.TeacherConfig{N: N, D: 16, Hidden: 32, O: 1, TailDOF: dof, Noise: 0.1, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, width := range []int{64, 256, 1024} {
			m, _ := nn.New(nn.Config{In: 16, Out: 1, Hidden: []int{width}, Activation: nn.ReLU, Seed: 3})
			cfg := testConfig(SamplerUniform)
			cfg.Iters, cfg.Batch, cfg.LR, cfg.EvalEvery, cfg.DiagSubset, cfg.RehashBatch = 300, 32, 0.064/float64(width), 300, 0, 256
			uni, err := NewTrainer(testBackend, m, ds, nil, cfg)
			if err != nil {
				t.Fatal(err)
			}
			uni.cfg.Iters = 200
			if _, err := uni.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			// ntk-static and lsh rehash here (w0), then the model trains on.
			others := map[string]*Trainer{}
			for _, s := range []string{SamplerNTKStatic, SamplerLSH} {
				c := DefaultConfig()
				c.Sampler, c.Batch, c.Iters, c.DiagSubset = s, 32, 300, 0
				tr, err := NewTrainer(testBackend, m, ds, nil, c)
				if err != nil {
					t.Fatal(err)
				}
				if err := tr.Rehash(); err != nil {
					t.Fatal(err)
				}
				others[s] = tr
			}
			uni.cfg.Iters = 300
			if _, err := uni.Train(context.Background()); err != nil {
				t.Fatal(err)
			}
			g := make([]float64, N)
			uni.GradNorms(nil, g)
			res := make([]float64, N)
			uni.passes.Residuals(m.Params, nil, res)
			lin := others[SamplerNTKStatic].lin
			proxies := map[string][]float64{"resid": res, "lin": make([]float64, N), "resid·|x|": make([]float64, N)}
			for i := range g {
				proxies["lin"][i] = lin.ANorm[i] * math.Abs(lin.F0[i]-lin.YSum[i])
				var x2 float64
				for _, v := range ds.X[i*16 : (i+1)*16] {
					x2 += float64(v) * float64(v)
				}
				proxies["resid·|x|"][i] = res[i] * math.Sqrt(1+x2)
			}
			for _, pname := range []string{SamplerUniform, SamplerNTKStatic, SamplerLSH} {
				p := make([]float64, N)
				tr := uni
				if pname != SamplerUniform {
					tr = others[pname]
				}
				if !tr.SamplerProbs(nil, p) {
					t.Fatal("no probabilities")
				}
				R := ratioAll(g, p)
				ests := measureEstimators(g, p, proxies, n)
				for _, e := range ests {
					r := rand.New(rand.NewPCG(99, uint64(len(e.name))))
					var sum, sum2 float64
					cover, withCI := 0, false
					vals := make([]float64, reps)
					for k := range reps {
						v, lo, hi := e.est(r)
						vals[k] = v
						sum += v
						sum2 += v * v
						if !math.IsNaN(lo) {
							withCI = true
							if lo <= R && R <= hi {
								cover++
							}
						}
					}
					mean := sum / reps
					sd := math.Sqrt(sum2/reps - mean*mean)
					sort.Float64s(vals)
					rmse := math.Sqrt((mean-R)*(mean-R) + sd*sd)
					cov := ""
					if withCI {
						cov = fmt.Sprintf(" 95%%-CI coverage %.2f", float64(cover)/reps)
					}
					t.Logf("dof=%g width=%d p=%-10s all=%.4f | %-22s mean %.4f bias %+.4f sd %.4f rmse %.4f median %.4f [5%%,95%%]=[%.4f,%.4f]%s",
						dof, width, pname, R, e.name, mean, mean-R, sd, rmse, vals[reps/2], vals[reps/20], vals[reps-reps/20], cov)
				}
			}
		}
	}
}

// measureEstimators returns the candidate estimators of the ratio from n
// of the points.
func measureEstimators(g, p []float64, proxies map[string][]float64, n int) []estimator {
	N := len(g)
	a := make([]float64, N) // g²/(N p)
	b := make([]float64, N) // g²
	for i, v := range g {
		a[i] = v * v / (float64(N) * p[i])
		b[i] = v * v
	}
	uniform := func(size int) estimator {
		return estimator{fmt.Sprintf("uniform n=%d", size), func(r *rand.Rand) (float64, float64, float64) {
			perm := r.Perm(N)[:size]
			var sa, sb float64
			for _, i := range perm {
				sa += a[i]
				sb += b[i]
			}
			R := sa / sb
			// Delta method for the ratio of means.
			var v float64
			for _, i := range perm {
				d := a[i] - R*b[i]
				v += d * d
			}
			mb := sb / float64(size)
			se := math.Sqrt(v/float64(size-1)/float64(size)) / mb * math.Sqrt(1-float64(size)/float64(N))
			return R, R - 1.96*se, R + 1.96*se
		}}
	}
	out := []estimator{uniform(n), uniform(5 * n)}
	for _, pn := range []string{"resid", "resid·|x|", "lin"} {
		q := proxies[pn]
		order := make([]int, N)
		for i := range order {
			order[i] = i
		}
		sort.Slice(order, func(x, y int) bool { return q[order[x]] > q[order[y]] })
		for _, m := range []int{n / 10, n / 2} {
			top, rest := order[:m], order[m:]
			out = append(out, estimator{fmt.Sprintf("strat %s top=%d", pn, m), func(r *rand.Rand) (float64, float64, float64) {
				var sa, sb float64
				for _, i := range top {
					sa += a[i]
					sb += b[i]
				}
				wgt := float64(N-m) / float64(n-m)
				for _, k := range r.Perm(N - m)[:n-m] {
					i := rest[k]
					sa += wgt * a[i]
					sb += wgt * b[i]
				}
				return sa / sb, math.NaN(), math.NaN()
			}})
		}
	}
	return out
}
