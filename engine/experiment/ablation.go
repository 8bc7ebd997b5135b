package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/data"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
)

// HashVariant is one lsh configuration of the ablation, or another
// rehash-based sampler measured beside them.
type HashVariant struct {
	Name string
	Hash ntk.HashConfig
	// Sampler is the sampler measured: lsh when empty. A variant of another
	// sampler (ntk-drift) ignores Hash and is measured with one hash seed.
	Sampler string `json:",omitempty"`
	// Lambda is the ntk-drift sampler's λ (negative: fitted at the rehash
	// from the drift since an earlier one, FitBack iterations before).
	Lambda  float64 `json:",omitempty"`
	FitBack int     `json:",omitempty"`
}

// isLSH says whether the variant measures the lsh sampler.
func (v HashVariant) isLSH() bool { return v.Sampler == "" || v.Sampler == engine.SamplerLSH }

// AblationGrid returns the configurations the ablation sweeps around base
// (which should be the engine default): K×L with the paper query; the
// re-centred query over α and K; dense projections; MIPS off; last layer
// only; sign-symmetric probing off.
func AblationGrid(base ntk.HashConfig, ks, ls []int, alphas []float64) []HashVariant {
	var out []HashVariant
	add := func(name string, f func(*ntk.HashConfig)) {
		h := base
		f(&h)
		out = append(out, HashVariant{Name: name, Hash: h})
	}
	for _, k := range ks {
		for _, l := range ls {
			add(fmt.Sprintf("paper K%d L%d", k, l), func(h *ntk.HashConfig) { h.Query, h.K, h.L = ntk.QueryPaper, k, l })
		}
	}
	for _, a := range alphas {
		for _, k := range []int{1, 2, 4} {
			add(fmt.Sprintf("recentred α%g K%d L64", a, k), func(h *ntk.HashConfig) { h.Query, h.Alpha, h.K, h.L = ntk.QueryRecentred, a, k, 64 })
		}
	}
	add("paper K2 L64 dense", func(h *ntk.HashConfig) { h.Query, h.K, h.L, h.Family = ntk.QueryPaper, 2, 64, ntk.Dense })
	add("recentred α0.01 K2 L64 dense", func(h *ntk.HashConfig) {
		h.Query, h.Alpha, h.K, h.L, h.Family = ntk.QueryRecentred, 0.01, 2, 64, ntk.Dense
	})
	add("paper K2 L64 no-MIPS", func(h *ntk.HashConfig) { h.Query, h.K, h.L, h.MIPS = ntk.QueryPaper, 2, 64, false })
	add("paper K6 L16 no-MIPS", func(h *ntk.HashConfig) { h.Query, h.K, h.L, h.MIPS = ntk.QueryPaper, 6, 16, false })
	add("recentred α0.01 K2 L64 no-MIPS", func(h *ntk.HashConfig) {
		h.Query, h.Alpha, h.K, h.L, h.MIPS = ntk.QueryRecentred, 0.01, 2, 64, false
	})
	add("paper K2 L64 last-layer", func(h *ntk.HashConfig) { h.Query, h.K, h.L, h.LastLayerOnly = ntk.QueryPaper, 2, 64, true })
	add("recentred α0.01 K2 L64 last-layer", func(h *ntk.HashConfig) {
		h.Query, h.Alpha, h.K, h.L, h.LastLayerOnly = ntk.QueryRecentred, 0.01, 2, 64, true
	})
	add("paper K2 L64 one-sided", func(h *ntk.HashConfig) { h.Query, h.K, h.L, h.SignSymmetric = ntk.QueryPaper, 2, 64, false })
	return out
}

// CheapVariants returns the variants of the cheap-hashing study around the
// engine default base (re-centred query, α, K = 1, L = 64, structured):
// fewer tables, the sparse family at two densities, and the ntk-drift
// sampler at three fixed λ and fitted (fitBack iterations before each
// rehash point that has room for it).
func CheapVariants(base ntk.HashConfig, fitBack int) []HashVariant {
	var out []HashVariant
	add := func(name string, f func(*ntk.HashConfig)) {
		h := base
		f(&h)
		out = append(out, HashVariant{Name: name, Hash: h})
	}
	a := base.Alpha
	for _, l := range []int{16, 32, 64} {
		add(fmt.Sprintf("recentred α%g K1 L%d", a, l), func(h *ntk.HashConfig) { h.Query, h.K, h.L = ntk.QueryRecentred, 1, l })
	}
	for _, d := range []float64{1.0 / 32, 1.0 / 8} {
		for _, l := range []int{32, 64} {
			add(fmt.Sprintf("recentred α%g K1 L%d sparse%g", a, l, d), func(h *ntk.HashConfig) {
				h.Query, h.K, h.L, h.Family, h.Density = ntk.QueryRecentred, 1, l, ntk.Sparse, d
			})
		}
	}
	for _, lam := range []float64{0.005, 0.02, 0.05} {
		out = append(out, HashVariant{Name: fmt.Sprintf("ntk-drift λ%g", lam), Hash: base, Sampler: engine.SamplerNTKDrift, Lambda: lam})
	}
	out = append(out, HashVariant{Name: fmt.Sprintf("ntk-drift fitted over %d", fitBack), Hash: base, Sampler: engine.SamplerNTKDrift, Lambda: -1, FitBack: fitBack})
	return out
}

// AblationConfig configures the lsh ablation.
type AblationConfig struct {
	Data data.TeacherConfig
	// Tails are Student-t degrees of freedom of the inputs (≤ 0: Gaussian);
	// heavier input tails give heavier-tailed residuals and gradient norms.
	Tails  []float64
	Widths []int
	// The trajectory: uniform SGD of Iters iterations.
	Batch, Iters int
	LR           float64 // at width ≤ 32, × 32/width above
	// Phases are the iterations at which the tables are built ("early",
	// "late"); Since the steps after a rehash at which the sampler is
	// measured.
	Phases    []int
	Since     []int
	Variants  []HashVariant
	HashSeeds int
	Eps       float64
	Seed      uint64
	// Default names the variant equal to the engine default (reported
	// beside the best).
	Default string
	// Show names further variants whose regime tables the summary prints.
	Show []string
}

// AblationRow is one measurement: a variant with one hash seed in one
// context.
type AblationRow struct {
	Tail                      float64
	Width, Phase, Since       int
	Variant                   string
	HashSeed                  uint64
	Ratio, KL                 float64
	Ideal, Static, Exact      float64 // ratios: p ∝ |g|, ntk-static, ntk-exact
	KLStatic, KLExact, KLUnif float64
}

// AblationResult holds the rows and the ranking.
type AblationResult struct {
	Rows    []AblationRow
	Ranking []VariantScore
	Best    BestLSH
	// BestName names the best lsh variant (Best's); Ranking[0] may be
	// another sampler.
	BestName string
}

// VariantScore aggregates one variant over all contexts (a context is
// tail × width × phase × steps since rehash; hash seeds are averaged
// geometrically first).
type VariantScore struct {
	Name                   string
	GeoRatio, Worst, Bestv float64
	BeatsUniform           float64 // fraction of contexts with ratio < 1
	BeatsStatic            float64 // fraction with ratio < ntk-static's
	GeoKL                  float64
	Hash                   ntk.HashConfig
}

type ctxKey struct {
	tail                float64
	width, phase, since int
}

// RunAblation measures, along uniform-SGD trajectories, the second-moment
// ratio against uniform (and KL(p*‖p)) of each lsh variant's exact draw
// distribution, over all N points, at several steps after a rehash at an
// early and a late point of training, beside ntk-static, ntk-exact and the
// ideal p ∝ |g|. It writes ablation.csv, ablation_summary.md,
// ablation_best.json and plots.
func RunAblation(ctx context.Context, env Env, c AblationConfig) (*AblationResult, error) {
	if err := env.mkdir(); err != nil {
		return nil, err
	}
	nctx := len(c.Tails) * len(c.Widths) * len(c.Phases)
	env.Progress.Phase(fmt.Sprintf("lsh-ablation (%d variants × %d hash seeds × %d tables contexts)", len(c.Variants), c.HashSeeds, nctx),
		nctx*(len(c.Variants)*c.HashSeeds+1))
	defer env.Progress.Done()
	f, err := createCSV(env.path("ablation.csv"), []string{"tail_dof", "width", "rehash_iter", "steps_since_rehash", "variant", "K", "L", "family", "mips",
		"query", "alpha", "last_layer_only", "sign_symmetric", "hash_seed", "ratio", "kl", "ideal_ratio", "ntk_static_ratio", "ntk_exact_ratio",
		"kl_ntk_static", "kl_ntk_exact", "kl_uniform"})
	if err != nil {
		return nil, err
	}
	res := &AblationResult{}
	variant := map[string]ntk.HashConfig{}
	for _, v := range c.Variants {
		variant[v.Name] = v.Hash
	}
	for _, tail := range c.Tails {
		dc := c.Data
		dc.TailDOF = tail
		train, _, err := TeacherSet(dc, 0)
		if err != nil {
			f.close()
			return nil, err
		}
		for _, width := range c.Widths {
			rows, err := ablationContext(ctx, env, c, train, tail, width)
			if err != nil {
				f.close()
				return nil, fmt.Errorf("tail %g width %d: %w", tail, width, err)
			}
			for _, r := range rows {
				h := variant[r.Variant]
				f.row(r.Tail, r.Width, r.Phase, r.Since, r.Variant, h.K, h.L, h.Family.String(), h.MIPS, h.Query.String(), h.Alpha, h.LastLayerOnly,
					h.SignSymmetric, int(r.HashSeed), r.Ratio, r.KL, r.Ideal, r.Static, r.Exact, r.KLStatic, r.KLExact, r.KLUnif)
			}
			res.Rows = append(res.Rows, rows...)
		}
	}
	if err := f.close(); err != nil {
		return nil, err
	}
	res.Ranking = rankVariants(c, res.Rows)
	res.Best, res.BestName = chooseBest(c, res)
	raw, _ := json.MarshalIndent(res.Best, "", "  ")
	if err := writeText(env.path("ablation_best.json"), string(raw)+"\n"); err != nil {
		return nil, err
	}
	if err := ablationReport(env, c, res); err != nil {
		return nil, err
	}
	return res, nil
}

func ablationContext(ctx context.Context, env Env, c AblationConfig, train *data.Dataset, tail float64, width int) ([]AblationRow, error) {
	m, err := nn.New(nn.Config{In: train.D, Out: train.O, Hidden: []int{width}, Activation: nn.ReLU, Seed: c.Seed})
	if err != nil {
		return nil, err
	}
	base := engine.DefaultConfig()
	base.Hash = PaperHash()
	base.Batch, base.Iters, base.LR, base.Eps, base.Seed, base.Workers = c.Batch, c.Iters, scaledLR(c.LR, width), c.Eps, c.Seed, env.Workers
	base.EvalEvery, base.DiagSubset = c.Iters, 0
	mainCfg := base
	mainCfg.Sampler = engine.SamplerUniform
	tr, err := engine.NewTrainer(env.Backend, m, train, nil, mainCfg)
	if err != nil {
		return nil, err
	}
	// Snapshots of the trajectory at every iteration needed.
	want := map[int]bool{}
	for _, p := range c.Phases {
		for _, s := range c.Since {
			if p+s > c.Iters {
				return nil, fmt.Errorf("phase %d + %d steps is past the trajectory's %d iterations", p, s, c.Iters)
			}
			want[p+s] = true
		}
		for _, v := range c.Variants {
			if v.FitBack > 0 && p-v.FitBack >= 0 {
				want[p-v.FitBack] = true
			}
		}
	}
	snaps := map[int][]float32{}
	take := func(t int) {
		if want[t] {
			snaps[t] = append([]float32(nil), m.Params...)
		}
	}
	take(0)
	tr.Recorder = engine.Observers{OnIter: func(r engine.IterRecord) { take(r.Iter + 1) }}
	if _, err := tr.Train(ctx); err != nil {
		return nil, err
	}
	// Probes share the model: they never train; they linearize at a
	// snapshot and report their sampler's probabilities at later ones.
	shadow := func(sampler string, h ntk.HashConfig) (*probe, error) {
		sc := base
		sc.Sampler = sampler
		sc.Hash = h
		return newProbe(env.Backend, m, train, sc, tr.Passes())
	}
	shadowVariant := func(v HashVariant, h ntk.HashConfig) (*probe, error) {
		if v.isLSH() {
			return shadow(engine.SamplerLSH, h)
		}
		sc := base
		sc.Sampler, sc.DriftLambda = v.Sampler, v.Lambda
		return newProbe(env.Backend, m, train, sc, tr.Passes())
	}
	set := func(t int) { copy(m.Params, snaps[t]) }
	n := train.N
	uni := make([]float64, n)
	for i := range uni {
		uni[i] = 1 / float64(n)
	}
	var rows []AblationRow
	p := make([]float64, n)
	for _, phase := range c.Phases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		// References: true norms, ntk-static and ntk-exact, per step count.
		st, err := shadow(engine.SamplerNTKStatic, base.Hash)
		if err != nil {
			return nil, err
		}
		ex, err := shadow(engine.SamplerNTKExact, base.Hash)
		if err != nil {
			return nil, err
		}
		set(phase)
		if err := st.rehash(); err != nil {
			return nil, err
		}
		if err := ex.rehash(); err != nil {
			return nil, err
		}
		type ref struct {
			g                                   []float64
			ideal, static, exact, klS, klE, klU float64
		}
		refs := make([]ref, len(c.Since))
		for k, s := range c.Since {
			set(phase + s)
			r := ref{g: make([]float64, n)}
			tr.GradNorms(nil, r.g)
			st.probs(p)
			r.static, r.ideal, r.klS = engine.SecondMomentRatio(r.g, p, n)
			ex.probs(p)
			r.exact, _, r.klE = engine.SecondMomentRatio(r.g, p, n)
			_, _, r.klU = engine.SecondMomentRatio(r.g, uni, n)
			refs[k] = r
		}
		env.Progress.Step(1)
		for _, v := range c.Variants {
			for hs := 0; hs < c.HashSeeds; hs++ {
				if hs > 0 && !v.isLSH() {
					env.Progress.Step(1)
					continue
				}
				h := v.Hash
				h.Seed = v.Hash.Seed + uint64(hs)
				sh, err := shadowVariant(v, h)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", v.Name, err)
				}
				if v.FitBack > 0 && phase-v.FitBack >= 0 {
					set(phase - v.FitBack)
					if err := sh.rehash(); err != nil {
						return nil, err
					}
				}
				set(phase)
				if err := sh.rehash(); err != nil {
					return nil, err
				}
				for k, s := range c.Since {
					set(phase + s)
					sh.probs(p)
					r := refs[k]
					row := AblationRow{Tail: tail, Width: width, Phase: phase, Since: s, Variant: v.Name, HashSeed: h.Seed,
						Ideal: r.ideal, Static: r.static, Exact: r.exact, KLStatic: r.klS, KLExact: r.klE, KLUnif: r.klU}
					row.Ratio, _, row.KL = engine.SecondMomentRatio(r.g, p, n)
					rows = append(rows, row)
				}
				env.Progress.Step(1)
			}
		}
	}
	return rows, nil
}

// contextRatios returns, per context, the geometric mean over hash seeds
// of the variant's ratio and KL, and the ntk-static ratio.
func contextRatios(rows []AblationRow, variant string) (keys []ctxKey, ratio, kl, static, ideal map[ctxKey]float64) {
	rs, ks := map[ctxKey][]float64{}, map[ctxKey][]float64{}
	static, ideal = map[ctxKey]float64{}, map[ctxKey]float64{}
	for _, r := range rows {
		if r.Variant != variant {
			continue
		}
		k := ctxKey{r.Tail, r.Width, r.Phase, r.Since}
		if _, ok := rs[k]; !ok {
			keys = append(keys, k)
		}
		rs[k] = append(rs[k], r.Ratio)
		ks[k] = append(ks[k], r.KL)
		static[k], ideal[k] = r.Static, r.Ideal
	}
	ratio, kl = map[ctxKey]float64{}, map[ctxKey]float64{}
	for k, v := range rs {
		ratio[k] = geoMean(v)
		kl[k] = geoMean(ks[k])
	}
	return
}

func rankVariants(c AblationConfig, rows []AblationRow) []VariantScore {
	var out []VariantScore
	for _, v := range c.Variants {
		keys, ratio, kl, static, _ := contextRatios(rows, v.Name)
		if len(keys) == 0 {
			continue
		}
		s := VariantScore{Name: v.Name, Hash: v.Hash}
		var rv, kv []float64
		var bu, bs int
		for _, k := range keys {
			rv = append(rv, ratio[k])
			kv = append(kv, kl[k])
			if ratio[k] < 1 {
				bu++
			}
			if ratio[k] < static[k] {
				bs++
			}
		}
		s.GeoRatio, s.GeoKL = geoMean(rv), geoMean(kv)
		s.Bestv, s.Worst = minMax(rv)
		s.BeatsUniform, s.BeatsStatic = float64(bu)/float64(len(keys)), float64(bs)/float64(len(keys))
		out = append(out, s)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].GeoRatio < out[j].GeoRatio })
	return out
}

// chooseBest takes the variant with the lowest geometric-mean ratio, and as
// its rehash period the largest measured step count (≥ 1) at which that
// variant still beats uniform on the geometric mean over contexts (the
// smallest measured positive step count when it never does).
func chooseBest(c AblationConfig, res *AblationResult) (BestLSH, string) {
	if len(res.Ranking) == 0 {
		return BestLSH{Hash: PaperHash(), RehashEvery: 50, Source: "engine default (empty ablation)"}, ""
	}
	b := res.Ranking[0]
	lshVariant := map[string]bool{}
	for _, v := range c.Variants {
		lshVariant[v.Name] = v.isLSH()
	}
	for _, r := range res.Ranking {
		if lshVariant[r.Name] {
			b = r
			break
		}
	}
	keys, ratio, _, _, _ := contextRatios(res.Rows, b.Name)
	every := 0
	smallest := 0
	for _, s := range c.Since {
		if s < 1 {
			continue
		}
		if smallest == 0 || s < smallest {
			smallest = s
		}
		var v []float64
		for _, k := range keys {
			if k.since == s {
				v = append(v, ratio[k])
			}
		}
		if geoMean(v) < 1 && s > every {
			every = s
		}
	}
	if every == 0 {
		every = max(1, smallest)
	}
	return BestLSH{Hash: b.Hash, RehashEvery: every, Source: fmt.Sprintf("ablation: %s (geometric-mean 2nd-moment ratio %.3g)", b.Name, b.GeoRatio)}, b.Name
}

func tailName(t float64) string {
	if t <= 0 {
		return "gaussian"
	}
	return fmt.Sprintf("t%g", t)
}

func ablationReport(env Env, c AblationConfig, res *AblationResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Teacher data N=%d, D=%d; input tails %v (≤0: Gaussian); widths %v; uniform-SGD trajectory of %d iterations (batch %d, lr %g × 32/width above 32); tables built at iterations %v and measured %v steps later; %d hash seeds; ε=%g. Ratio: second moment of the one-draw importance-weighted gradient ÷ uniform's, over all N points (below 1: lsh lowers the variance). A context is tail × width × rehash point × steps since rehash; per context the hash seeds are averaged geometrically.\n\n",
		c.Data.N, c.Data.D, c.Tails, c.Widths, c.Iters, c.Batch, c.LR, c.Phases, c.Since, c.HashSeeds, c.Eps)
	b.WriteString("### Ranking of the variants\n\n| variant | geo-mean ratio | best | worst | beats uniform | beats ntk-static | geo-mean KL |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, s := range res.Ranking {
		fmt.Fprintf(&b, "| %s | %.3g | %.3g | %.3g | %.0f%% | %.0f%% | %.3g |\n", s.Name, s.GeoRatio, s.Bestv, s.Worst, 100*s.BeatsUniform, 100*s.BeatsStatic, s.GeoKL)
	}
	best := res.Ranking[0].Name
	show := []string{best}
	if c.Default != "" && c.Default != best {
		show = append(show, c.Default)
	}
	for _, name := range c.Show {
		dup := false
		for _, v := range show {
			dup = dup || v == name
		}
		if !dup {
			show = append(show, name)
		}
	}
	fmt.Fprintf(&b, "\nBest: `%s`; suggested rehash period %d iterations (%s).\n", best, res.Best.RehashEvery, res.Best.Source)
	for _, name := range show {
		keys, ratio, _, static, ideal := contextRatios(res.Rows, name)
		fmt.Fprintf(&b, "\n### `%s` by regime (ratio; in brackets ntk-static's, then the ideal p ∝ |g|)\n\n| tails | width | rehash at |", name)
		for _, s := range c.Since {
			fmt.Fprintf(&b, " +%d steps |", s)
		}
		b.WriteString("\n| --- | --- | --- |" + strings.Repeat(" --- |", len(c.Since)) + "\n")
		for _, tail := range c.Tails {
			for _, w := range c.Widths {
				for _, ph := range c.Phases {
					fmt.Fprintf(&b, "| %s | %d | %d |", tailName(tail), w, ph)
					for _, s := range c.Since {
						k := ctxKey{tail, w, ph, s}
						fmt.Fprintf(&b, " %.3g (%.3g, %.3g) |", ratio[k], static[k], ideal[k])
					}
					b.WriteString("\n")
				}
			}
		}
		_ = keys
	}
	if err := writeText(env.path("ablation_summary.md"), b.String()); err != nil {
		return err
	}
	// Plot 1: ratio against K for each L (paper query), geo-mean over contexts.
	score := map[string]VariantScore{}
	for _, s := range res.Ranking {
		score[s.Name] = s
	}
	var ls, ks []int
	for _, v := range c.Variants {
		var k, l int
		if n, _ := fmt.Sscanf(v.Name, "paper K%d L%d", &k, &l); n == 2 && v.Name == fmt.Sprintf("paper K%d L%d", k, l) {
			ls, ks = appendUnique(ls, l), appendUnique(ks, k)
		}
	}
	var ss []Series
	for i, l := range ls {
		var xs, ys []float64
		for _, k := range ks {
			if s, ok := score[fmt.Sprintf("paper K%d L%d", k, l)]; ok {
				xs, ys = append(xs, float64(k)), append(ys, s.GeoRatio)
			}
		}
		ss = append(ss, Series{Name: fmt.Sprintf("paper query, L=%d", l), X: xs, Y: ys, ColorSlot: i})
	}
	var alphas []float64
	for _, v := range c.Variants {
		if v.Hash.Query == ntk.QueryRecentred && v.Hash.L == 64 && v.Hash.Family == ntk.Structured && v.Hash.MIPS && !v.Hash.LastLayerOnly {
			alphas = appendUniqueF(alphas, v.Hash.Alpha)
		}
	}
	for i, a := range alphas {
		var xs, ys []float64
		for _, k := range []int{1, 2, 4} {
			if s, ok := score[fmt.Sprintf("recentred α%g K%d L64", a, k)]; ok {
				xs, ys = append(xs, float64(k)), append(ys, s.GeoRatio)
			}
		}
		ss = append(ss, Series{Name: fmt.Sprintf("recentred, α=%g, L=64", a), X: xs, Y: ys, ColorSlot: len(ls) + i, Dashed: true})
	}
	if len(ss) > 0 {
		lp := LinePlot{Title: "lsh second-moment ratio vs uniform (geo-mean over all contexts)", XLabel: "K (bits per table)",
			YLabel: "2nd-moment ratio (below 1: beats uniform)", LogY: true, Series: ss, HLine: 1, HLineName: "uniform"}
		if err := lp.Save(env.path("ablation_ratio_vs_K.png")); err != nil {
			return err
		}
	}
	// Plot 2: ratio against steps since rehash, per tail × width.
	for _, tail := range c.Tails {
		for _, w := range c.Widths {
			var ss []Series
			slot := 0
			for _, name := range show {
				_, ratio, _, static, ideal := contextRatios(res.Rows, name)
				for pi, ph := range c.Phases {
					var xs, ys, st, id []float64
					for _, s := range c.Since {
						k := ctxKey{tail, w, ph, s}
						xs = append(xs, float64(s)+1)
						ys, st, id = append(ys, ratio[k]), append(st, static[k]), append(id, ideal[k])
					}
					ss = append(ss, Series{Name: fmt.Sprintf("lsh %s, rehash at %d", name, ph), X: xs, Y: ys, ColorSlot: slot, Dashed: pi > 0})
					if name == show[0] {
						ss = append(ss, Series{Name: fmt.Sprintf("ntk-static, rehash at %d", ph), X: xs, Y: st, ColorSlot: 5, Dashed: pi > 0})
						ss = append(ss, Series{Name: fmt.Sprintf("ideal p∝|g| at %d", ph), X: xs, Y: id, ColorSlot: 7, Dashed: pi > 0})
					}
				}
				slot++
			}
			lp := LinePlot{Title: fmt.Sprintf("ratio vs steps since rehash: %s inputs, width %d", tailName(tail), w),
				XLabel: "steps since rehash + 1", YLabel: "2nd-moment ratio vs uniform", LogX: true, LogY: true, Series: ss, HLine: 1, HLineName: "uniform"}
			if err := lp.Save(env.path(fmt.Sprintf("ablation_since_%s_w%d.png", tailName(tail), w))); err != nil {
				return err
			}
		}
	}
	return nil
}

func appendUnique(v []int, x int) []int {
	for _, y := range v {
		if y == x {
			return v
		}
	}
	return append(v, x)
}

func appendUniqueF(v []float64, x float64) []float64 {
	for _, y := range v {
		if y == x {
			return v
		}
	}
	return append(v, x)
}
