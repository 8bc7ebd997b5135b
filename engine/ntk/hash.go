package ntk

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/kernels"
)

// Family is a family of signed random projections of the gradient a_i.
type Family int

const (
	// Structured projections act per weight block W_l as u^T(δ_l h_{l−1}^T)v =
	// (u·δ_l)(v·[h_{l−1},1]), costing O(K·L·Σ(m_l+m_{l−1})) per point.
	Structured Family = iota
	// Dense projections are Gaussian rows over the whole of a_i, which is
	// materialized one batch at a time; O(K·L·P) per point. Reference only.
	Dense
	// Sparse is Structured with very sparse ±1 factors (HashConfig.Density
	// of their entries non-zero): O(K·L·Σ density·(m_l+m_{l−1})) gathers
	// per point (sparse.go).
	Sparse
)

func (f Family) String() string {
	switch f {
	case Dense:
		return "dense"
	case Sparse:
		return "sparse"
	}
	return "structured"
}

// ParseFamily reads "structured", "dense" or "sparse".
func ParseFamily(s string) (Family, error) {
	switch strings.ToLower(s) {
	case "structured", "layer", "layerwise":
		return Structured, nil
	case "dense":
		return Dense, nil
	case "sparse":
		return Sparse, nil
	}
	return 0, fmt.Errorf("unknown projection family %q (want structured, dense or sparse)", s)
}

// QueryMode says which inner product the tables are built for. Both give
// q·v_i = |a_i|·(f_lin(x_i, w) − y_i), whose magnitude is the linearized
// gradient norm; they differ in geometry, hence in collision probabilities.
type QueryMode int

const (
	// QueryPaper hashes v_i = [a_i|a_i|, (y_i−b_i)|a_i|] and queries with
	// q = [w, −1] (Marshall & David).
	QueryPaper QueryMode = iota
	// QueryRecentred hashes v_i = |a_i|[α·a_i, r0_i] with r0_i = f(x_i,w0) −
	// y_i and queries with q = [(w−w0)/α, 1].
	QueryRecentred
)

func (q QueryMode) String() string {
	if q == QueryRecentred {
		return "recentred"
	}
	return "paper"
}

// ParseQueryMode reads "paper" or "recentred".
func ParseQueryMode(s string) (QueryMode, error) {
	switch strings.ToLower(s) {
	case "paper":
		return QueryPaper, nil
	case "recentred", "recentered":
		return QueryRecentred, nil
	}
	return 0, fmt.Errorf("unknown query mode %q (want paper or recentred)", s)
}

// HashConfig configures the LSH tables.
type HashConfig struct {
	K, L   int // bits per table (1..16), tables (1..512)
	Family Family
	MIPS   bool // Simple-LSH transform of the data vectors
	Query  QueryMode
	Alpha  float64 // a-block scale of QueryRecentred
	// SignSymmetric probes the bucket of −q as well as q.
	SignSymmetric bool
	// LastLayerOnly hashes only the output layer's block of a_i (and of
	// w); b_i is then taken relative to that block alone.
	LastLayerOnly bool
	Seed          uint64
	// Density is the fraction of non-zero entries of the Sparse family's
	// factors (0: DefaultDensity; at least 8 non-zeros per factor).
	Density float64 `json:",omitempty"`
}

// Validate checks ranges and says which are allowed.
func (c HashConfig) Validate() error {
	if c.K < 1 || c.K > 16 {
		return fmt.Errorf("hash bits K=%d outside [1, 16]", c.K)
	}
	if c.L < 1 || c.L > 512 {
		return fmt.Errorf("hash tables L=%d outside [1, 512]", c.L)
	}
	if c.K*c.L > 8192 {
		return fmt.Errorf("K·L = %d projections is more than 8192", c.K*c.L)
	}
	if c.Family == Sparse && !(c.Density >= 0 && c.Density <= 1) {
		return fmt.Errorf("density=%g outside [0, 1] (0: %g)", c.Density, DefaultDensity)
	}
	if c.Query == QueryRecentred && !(c.Alpha > 0 && c.Alpha <= 1e6) {
		return fmt.Errorf("alpha=%g must be in (0, 1e6]", c.Alpha)
	}
	return nil
}

// projector computes K·L linear projections R·a of per-example gradients
// (given a batch after BackwardOnes) and of parameter-shaped vectors.
type projector interface {
	// addBatch adds R·a_i for each example of the batch into out (N × KL).
	addBatch(be kernels.Backend, b *nn.Batch, out []float32, s *projScratch)
	// params sets out (KL) = R·v for a vector v of the model's layout.
	params(be kernels.Backend, v []float32, out []float32, s *projScratch)
}

type projScratch struct {
	pd, ph []float32 // N × KL
	a      []float32 // N × P (dense family only)
	t      []float32 // KL × max width
	dots   []float64 // KL
}

func gaussian(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// structuredProjector holds per layer U_l (KL × m_l), Vh_l (KL × m_{l−1}) and
// vb_l (KL): the projection j of layer l's block G = [δ h^T, δ] is
// u_j^T G [v_j; vb_j] = (u_j·δ)(v_j·h + vb_j).
type structuredProjector struct {
	m      *nn.MLP
	kl     int
	u, vh  [][]float32
	vb     [][]float32
	layers []int // the layers hashed (1-based)
}

func newStructured(m *nn.MLP, kl int, lastOnly bool, rng *rand.Rand) *structuredProjector {
	p := &structuredProjector{m: m, kl: kl}
	L := m.Layers()
	p.u, p.vh, p.vb = make([][]float32, L+1), make([][]float32, L+1), make([][]float32, L+1)
	for l := 1; l <= L; l++ {
		p.u[l] = gaussian(rng, kl*m.Sizes[l])
		p.vh[l] = gaussian(rng, kl*m.Sizes[l-1])
		p.vb[l] = gaussian(rng, kl)
		if !lastOnly || l == L {
			p.layers = append(p.layers, l)
		}
	}
	return p
}

func (p *structuredProjector) addBatch(be kernels.Backend, b *nn.Batch, out []float32, s *projScratch) {
	n, kl, m := b.N, p.kl, p.m
	if n == 0 {
		return
	}
	pd, ph := s.pd[:n*kl], s.ph[:n*kl]
	for _, l := range p.layers {
		w, in := m.Sizes[l], m.Sizes[l-1]
		be.Sgemm(false, true, n, kl, w, 1, b.D[l], w, p.u[l], w, 0, pd, kl)
		for i := 0; i < n; i++ {
			copy(ph[i*kl:(i+1)*kl], p.vb[l])
		}
		be.Sgemm(false, true, n, kl, in, 1, b.H[l-1], in, p.vh[l], in, 1, ph, kl)
		o := out[:n*kl]
		for i := range o {
			o[i] += pd[i] * ph[i]
		}
	}
}

func (p *structuredProjector) params(be kernels.Backend, v []float32, out []float32, s *projScratch) {
	kl, m := p.kl, p.m
	clear(out[:kl])
	for _, l := range p.layers {
		w, in := m.Sizes[l], m.Sizes[l-1]
		t := s.t[:kl*w]
		// T = Vh W^T + vb b^T  (KL × w), then out_j += u_j · T_j.
		be.Sgemm(false, true, kl, w, in, 1, p.vh[l], in, m.WOf(v, l), in, 0, t, w)
		bias := m.BOf(v, l)
		for j := 0; j < kl; j++ {
			be.Axpy(p.vb[l][j], bias, t[j*w:(j+1)*w])
		}
		be.RowDots(kl, w, p.u[l], w, t, w, s.dots)
		for j := 0; j < kl; j++ {
			out[j] += float32(s.dots[j])
		}
	}
}

// denseProjector holds R (KL × P) with N(0,1) entries.
type denseProjector struct {
	m  *nn.MLP
	kl int
	r  []float32
}

func (p *denseProjector) addBatch(be kernels.Backend, b *nn.Batch, out []float32, s *projScratch) {
	n, kl, m := b.N, p.kl, p.m
	if n == 0 {
		return
	}
	P := m.NumParams()
	a := s.a[:n*P]
	for i := 0; i < n; i++ {
		ai := a[i*P : (i+1)*P]
		for l := 1; l <= m.Layers(); l++ {
			w, in := m.Sizes[l], m.Sizes[l-1]
			d := b.D[l][i*w : (i+1)*w]
			h := b.H[l-1][i*in : (i+1)*in]
			wb := m.WOf(ai, l)
			for r, dv := range d {
				row := wb[r*in : (r+1)*in]
				for k, hv := range h {
					row[k] = dv * hv
				}
			}
			copy(m.BOf(ai, l), d)
		}
	}
	be.Sgemm(false, true, n, kl, P, 1, a, P, p.r, P, 1, out[:n*kl], kl)
}

func (p *denseProjector) params(be kernels.Backend, v []float32, out []float32, s *projScratch) {
	be.Sgemm(false, false, p.kl, 1, p.m.NumParams(), 1, p.r, p.m.NumParams(), v, 1, 0, out[:p.kl], 1)
}

// Hasher maps data points (through the linearization) and queries to K-bit
// codes in L tables.
type Hasher struct {
	Cfg  HashConfig
	kl   int
	proj projector
	// c multiplies the residual coordinate of v (and the ∓1 of q); e the
	// Simple-LSH extra coordinate.
	c, e []float32
}

// KL returns K·L, the number of projections (the length of a raw query).
func (h *Hasher) KL() int { return h.kl }

// NewHasher draws the random projections for model m.
func NewHasher(m *nn.MLP, cfg HashConfig) (*Hasher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kl := cfg.K * cfg.L
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x68617368))
	h := &Hasher{Cfg: cfg, kl: kl}
	h.c = gaussian(rng, kl)
	h.e = gaussian(rng, kl)
	switch cfg.Family {
	case Dense:
		if int64(kl)*int64(m.NumParams()) > 1<<31 {
			return nil, fmt.Errorf("dense projections need K·L·P = %d floats; use --family structured", int64(kl)*int64(m.NumParams()))
		}
		r := gaussian(rng, kl*m.NumParams())
		if cfg.LastLayerOnly {
			// Zero every column outside the output layer's block.
			P, L := m.NumParams(), m.Layers()
			start := P - len(m.WOf(r[:P], L)) - m.Out
			for j := 0; j < kl; j++ {
				clear(r[j*P : j*P+start])
			}
		}
		h.proj = &denseProjector{m: m, kl: kl, r: r}
	case Sparse:
		h.proj = newSparse(m, kl, cfg.Density, cfg.LastLayerOnly, rng)
	default:
		h.proj = newStructured(m, kl, cfg.LastLayerOnly, rng)
	}
	return h, nil
}

func (h *Hasher) newScratch(m *nn.MLP, batch int) *projScratch {
	s := &projScratch{pd: make([]float32, batch*h.kl), ph: make([]float32, batch*h.kl), dots: make([]float64, h.kl)}
	maxw := 0
	for _, w := range m.Sizes {
		maxw = max(maxw, w)
	}
	s.t = make([]float32, h.kl*maxw)
	if h.Cfg.Family == Dense {
		s.a = make([]float32, batch*m.NumParams())
	}
	return s
}

// dataVector returns, for the hashed vector v_i of point i, the multiplier
// s_a of the a-block, the residual coordinate β_i, and |v_i|²: the
// projection of v_i is |a_i|(s_a·R a_i + c·β_i). With LastLayerOnly, R sees
// only the output layer's block, whose norm is AHash[i].
func (h *Hasher) dataVector(lin *Linearization, i int) (sa, beta, norm2 float64) {
	if h.Cfg.Query == QueryRecentred {
		sa, beta = h.Cfg.Alpha, lin.F0[i]-lin.YSum[i]
	} else {
		sa, beta = 1, lin.YSum[i]-lin.BHash[i]
	}
	an, ah := lin.ANorm[i], lin.AHash[i]
	norm2 = an * an * (sa*sa*ah*ah + beta*beta)
	return
}

// codesFromProjections finishes the projections of points lo..lo+n (in
// proj, n × KL, holding R·a_i) and packs their signs into codes (n × L).
func (h *Hasher) codesFromProjections(be kernels.Backend, proj []float32, lin *Linearization, lo, n int, codes []uint32) {
	kl := h.kl
	for i := 0; i < n; i++ {
		sa, beta, norm2 := h.dataVector(lin, lo+i)
		row := proj[i*kl : (i+1)*kl]
		an := lin.ANorm[lo+i]
		if h.Cfg.MIPS {
			M := lin.M
			extra := math.Sqrt(math.Max(0, 1-norm2/(M*M)))
			scale := an / M
			for j := range row {
				row[j] = float32(scale*(sa*float64(row[j])+float64(h.c[j])*beta) + float64(h.e[j])*extra)
			}
		} else {
			for j := range row {
				row[j] = float32(an * (sa*float64(row[j]) + float64(h.c[j])*beta))
			}
		}
	}
	be.SignPack(n, h.Cfg.K, h.Cfg.L, proj, kl, codes)
}

// QueryScratch is the scratch of QueryCodes for one model.
type QueryScratch struct {
	proj []float32 // KL
	s    *projScratch
}

// NewQueryScratch allocates the scratch of QueryCodes for model m.
func (h *Hasher) NewQueryScratch(m *nn.MLP) *QueryScratch {
	return &QueryScratch{proj: make([]float32, h.kl), s: h.newScratch(m, 1)}
}

// QueryCodes hashes the query for parameters w into codes (L). delta must
// hold w − w0 (w0 the linearization point) for the re-centred query; the
// paper query reads w only, and delta may then be nil.
func (h *Hasher) QueryCodes(be kernels.Backend, w, delta []float32, qs *QueryScratch, codes []uint32) {
	if h.Cfg.Query == QueryRecentred {
		h.proj.params(be, delta, qs.proj, qs.s)
	} else {
		h.proj.params(be, w, qs.proj, qs.s)
	}
	h.FinishQuery(be, qs.proj, codes)
}

// Project sets proj (KL) to the raw projections R·v of a parameter-shaped
// vector v (w for the paper query, w − w0 for the re-centred one), the
// part of QueryCodes that FinishQuery completes; qs is scratch.
func (h *Hasher) Project(be kernels.Backend, v []float32, qs *QueryScratch, proj []float32) {
	h.proj.params(be, v, proj, qs.s)
}

// NeedsDelta says whether QueryCodes and QueryNorm read w − w0.
func (h *Hasher) NeedsDelta() bool { return h.Cfg.Query == QueryRecentred }

// FinishQuery turns the raw query projections proj (KL) — R·w for the
// paper query, R·(w − w0) for the re-centred one — into the query's codes
// (L), in place: the residual coordinate's term is added and the signs
// packed. The Simple-LSH query transform q/|q| with a zero extra coordinate
// leaves every sign unchanged.
func (h *Hasher) FinishQuery(be kernels.Backend, proj []float32, codes []uint32) {
	if h.Cfg.Query == QueryRecentred {
		inv := float32(1 / h.Cfg.Alpha)
		for j := range proj[:h.kl] {
			proj[j] = proj[j]*inv + h.c[j]
		}
	} else {
		for j := range proj[:h.kl] {
			proj[j] -= h.c[j]
		}
	}
	be.SignPack(1, h.Cfg.K, h.Cfg.L, proj, h.kl, codes)
}

// QueryNorm returns |q| for parameters w: √(|w|²+1) (paper) or
// √(|w−w0|²/α²+1) (recentred, from delta = w − w0).
func (h *Hasher) QueryNorm(w, delta []float32) float64 {
	var s float64
	if h.Cfg.Query == QueryRecentred {
		for _, v := range delta {
			d := float64(v)
			s += d * d
		}
		s /= h.Cfg.Alpha * h.Cfg.Alpha
	} else {
		for _, v := range w {
			s += float64(v) * float64(v)
		}
	}
	return math.Sqrt(s + 1)
}

// VectorNorm returns |v_i|, the norm of point i's hashed vector before the
// Simple-LSH transform, from the linearization.
func (h *Hasher) VectorNorm(lin *Linearization, i int) float64 {
	_, _, n2 := h.dataVector(lin, i)
	return math.Sqrt(n2)
}

// Projections exposes the random projections of a Hasher, for backends
// that compute rehashes elsewhere (a GPU). All slices are read-only.
type Projections struct {
	// Structured family, per layer l = 1..Layers (index 0 unused):
	// U[l] is KL × Sizes[l], Vh[l] is KL × Sizes[l−1], Vb[l] is KL.
	// Layers lists the hashed layers.
	U, Vh, Vb [][]float32
	Layers    []int
	// Dense family: R is KL × P.
	R []float32
	// C multiplies the residual coordinate, E the Simple-LSH coordinate.
	C, E []float32
}

// Projections returns the hasher's projection matrices.
func (h *Hasher) Projections() Projections {
	p := Projections{C: h.c, E: h.e}
	switch pr := h.proj.(type) {
	case *structuredProjector:
		p.U, p.Vh, p.Vb, p.Layers = pr.u, pr.vh, pr.vb, pr.layers
	case *denseProjector:
		p.R = pr.r
	}
	return p
}

// FinishCodes turns raw projections R·a_i of points lo..lo+n (proj, n × KL,
// overwritten) into their codes in lin.Codes, from the linearization's
// |a_i|, b_i, F0, YSum and, with Simple-LSH, its scale lin.M, exactly as
// Rehash does. A backend that computes the projections elsewhere (a GPU)
// finishes them with it; lin.M must already be set (SetScale).
func (h *Hasher) FinishCodes(be kernels.Backend, proj []float32, lin *Linearization, lo, n int) {
	h.codesFromProjections(be, proj, lin, lo, n, lin.Codes[lo*h.Cfg.L:(lo+n)*h.Cfg.L])
}

// SetScale sets the Simple-LSH scale lin.M of a linearization whose ANorm,
// AHash, BHash, F0 and YSum are filled: the largest norm of the points'
// hashed vectors under this hasher's query mode (1 when that is 0 or not
// finite). Rehash calls it; a backend that linearizes elsewhere calls it
// before FinishCodes.
func (h *Hasher) SetScale(lin *Linearization) {
	M := 0.0
	for i := 0; i < lin.N; i++ {
		_, _, n2 := h.dataVector(lin, i)
		M = math.Max(M, math.Sqrt(n2))
	}
	if M == 0 || math.IsNaN(M) || math.IsInf(M, 0) {
		M = 1
	}
	lin.M = M
}
