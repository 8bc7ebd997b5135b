//go:build cuda

package cuda

import (
	_ "embed"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/kernels"
)

//go:embed rehash.ptx
var rehashPTX string

// Kernel IDs of rehash.cu, indices into rehashKernelNames.
const (
	rkBiasAct = iota
	rkFill
	rkOutPrep
	rkRowStats
	rkPointFinish
	rkProjAcc
	rkFinishCodes
	numRehashKernels
)

// rehashKernelNames lists the kernels of rehash.cu in the order they are
// defined there (ptx_test.go checks it).
var rehashKernelNames = [numRehashKernels]string{
	"bias_act", "fill_f32", "out_prep", "row_stats", "point_finish", "proj_acc", "finish_codes",
}

// Rehasher computes ntk.Rehash on a CUDA device for one data set, which
// it uploads once (NewRehasher) and keeps on the device. Each Rehash uploads
// the parameters (P floats), runs the Jacobian batches on the device
// (cuBLAS forward, backward of the summed output, per-example |a_i|, a_i·w0,
// and the layer-structured projections R·a_i) and downloads only the O(N)
// results and the N×L codes. The raw projections of the whole data set stay
// on the device when they fit (N×K·L floats, at most half of the free
// device memory), so that the Simple-LSH scale M, which needs every |v_i|
// first, costs no second pass; otherwise a second pass recomputes them
// batch by batch, as ntk.Rehash does.
//
// Only the Structured projection family is supported; a Dense hasher is an
// error. A Rehasher is not safe for concurrent use (its Backend is).
type Rehasher struct {
	be        *Backend
	sizes     []int
	act       nn.Activation
	n, cap    int
	offW      []int // parameter offsets, as nn.Layout
	offB      []int
	numParams int

	// HostFinish makes Rehash finish the codes on the host (download the
	// raw projections, ntk.Hasher.FinishCodes on CPU) instead of with
	// the finish_codes kernel. Both give the same bits.
	HostFinish bool
	// CPU is the kernels.Backend of the host finishing (default
	// kernels.Generic). It must not be a cuda Backend.
	CPU kernels.Backend
	// ForceRecompute keeps only one batch of projections on the device and
	// recomputes them in a second pass (the path for data sets whose
	// projections do not fit); for tests.
	ForceRecompute bool

	mod    cu.Module
	fn     [numRehashKernels]cu.Function
	allocs []cu.DevicePtr
	closed bool

	x, y                         cu.DevicePtr // N×In, N×Out
	params                       cu.DevicePtr // P
	z, h, d                      []cu.DevicePtr
	sq, dz, sqloss               cu.DevicePtr // Layers × cap float64
	f0, ysum, anorm, b, gn       cu.DevicePtr // N float64
	ahash, bhash                 cu.DevicePtr
	hashFor                      *ntk.Hasher
	kl, tables                   int
	u, vh, vb                    []cu.DevicePtr // per layer, the hasher's projections
	c, e                         cu.DevicePtr
	pd, ph                       cu.DevicePtr // cap × KL
	proj                         cu.DevicePtr // N×KL (resident) or cap×KL
	projRows                     int          // rows of proj
	codes                        cu.DevicePtr // N×L uint32
	hashBufs                     []cu.DevicePtr
	hostProj                     []float32
	resident                     bool
	timing                       *stageTimer // nil unless timing stages
	lastResident, lastHostFinish bool
}

// NewRehasher uploads the data set x (n × m.In) and y (n × m.Out) to the
// device of be and allocates the buffers of batches of up to batch examples
// for models of m's shape (its parameters are not used).
func NewRehasher(be *Backend, m *nn.MLP, x, y []float32, n, batch int) (*Rehasher, error) {
	if n < 1 {
		return nil, errors.New("cuda: NewRehasher needs at least one data point")
	}
	if batch < 1 {
		return nil, fmt.Errorf("cuda: NewRehasher batch %d must be at least 1", batch)
	}
	if len(x) < n*m.In || len(y) < n*m.Out {
		return nil, fmt.Errorf("cuda: NewRehasher: x has %d values and y %d, want at least %d and %d", len(x), len(y), n*m.In, n*m.Out)
	}
	if m.Activation != nn.ReLU && m.Activation != nn.Tanh {
		return nil, fmt.Errorf("cuda: NewRehasher: unsupported activation %v", m.Activation)
	}
	batch = min(batch, n)
	L := m.Layers()
	r := &Rehasher{be: be, sizes: append([]int(nil), m.Sizes...), act: m.Activation, n: n, cap: batch,
		CPU: kernels.Generic, offW: make([]int, L+1), offB: make([]int, L+1)}
	for l := 1; l <= L; l++ {
		r.offW[l], r.offB[l] = m.WeightOffset(l), m.BiasOffset(l)
	}
	r.numParams = m.NumParams()
	err := be.do(func() error {
		mod, err := cu.LoadData(rehashPTX)
		if err != nil {
			return fmt.Errorf("cuda: loading rehash.ptx: %w", err)
		}
		r.mod = mod
		for i, k := range rehashKernelNames {
			if r.fn[i], err = mod.Function(k); err != nil {
				return fmt.Errorf("cuda: kernel %s in rehash.ptx: %w", k, err)
			}
		}
		if r.x, err = r.alloc(int64(n*m.In) * 4); err != nil {
			return err
		}
		if r.y, err = r.alloc(int64(n*m.Out) * 4); err != nil {
			return err
		}
		if err := upload(r.x, x, 1, n*m.In, n*m.In); err != nil {
			return err
		}
		if err := upload(r.y, y, 1, n*m.Out, n*m.Out); err != nil {
			return err
		}
		if r.params, err = r.alloc(int64(r.numParams) * 4); err != nil {
			return err
		}
		r.z, r.h, r.d = make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1)
		for l := 1; l <= L; l++ {
			bytes := int64(batch*m.Sizes[l]) * 4
			if r.z[l], err = r.alloc(bytes); err != nil {
				return err
			}
			if r.d[l], err = r.alloc(bytes); err != nil {
				return err
			}
			if l < L {
				if r.h[l], err = r.alloc(bytes); err != nil {
					return err
				}
			}
		}
		for _, q := range []*cu.DevicePtr{&r.sq, &r.dz, &r.sqloss} {
			if *q, err = r.alloc(int64(L*batch) * 8); err != nil {
				return err
			}
		}
		for _, q := range []*cu.DevicePtr{&r.f0, &r.ysum, &r.anorm, &r.b, &r.gn, &r.ahash, &r.bhash} {
			if *q, err = r.alloc(int64(n) * 8); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// alloc allocates device memory owned by the Rehasher (worker only).
func (r *Rehasher) alloc(bytes int64) (cu.DevicePtr, error) {
	p, err := cu.MemAlloc(max(bytes, 4))
	if err != nil {
		return 0, fmt.Errorf("cuda: Rehasher: allocating %d bytes: %w", bytes, err)
	}
	r.allocs = append(r.allocs, p)
	return p, nil
}

// Close frees the Rehasher's device memory and module. Closing twice is a
// no-op.
func (r *Rehasher) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.be.do(func() error {
		var errs []error
		for _, p := range append(r.allocs, r.hashBufs...) {
			if err := cu.MemFree(p); err != nil {
				errs = append(errs, fmt.Errorf("cuda: Rehasher: freeing: %w", err))
			}
		}
		r.allocs, r.hashBufs = nil, nil
		if r.mod != (cu.Module{}) {
			if err := r.mod.Unload(); err != nil {
				errs = append(errs, fmt.Errorf("cuda: Rehasher: unloading rehash.ptx: %w", err))
			}
		}
		return errors.Join(errs...)
	})
}

// N is the number of data points; Batch the device batch size.
func (r *Rehasher) N() int     { return r.n }
func (r *Rehasher) Batch() int { return r.cap }

// Resident reports whether the last Rehash with a hasher kept every raw
// projection on the device (one pass) rather than recomputing them.
func (r *Rehasher) Resident() bool { return r.lastResident }

func (r *Rehasher) launch(k int, threads int, args ...unsafe.Pointer) error {
	if threads <= 0 {
		return nil
	}
	g := blocks(threads, block1D)
	if err := r.fn[k].Launch(g, 1, 1, block1D, 1, 1, 0, cu.NoStream, args); err != nil {
		return fmt.Errorf("cuda: launching %s (%d threads): %w", rehashKernelNames[k], threads, err)
	}
	return nil
}

func off(p cu.DevicePtr, elems, size int) cu.DevicePtr { return p + cu.DevicePtr(elems*size) }

// input returns h_l of the batch starting at lo (h_0 = x rows).
func (r *Rehasher) input(l, lo int) cu.DevicePtr {
	if l == 0 {
		return off(r.x, lo*r.sizes[0], 4)
	}
	return r.h[l]
}

func (r *Rehasher) layers() int { return len(r.sizes) - 1 }

func (r *Rehasher) gemm(stage int, transA, transB bool, m, n, k int, a cu.DevicePtr, lda int, b cu.DevicePtr, ldb int, c cu.DevicePtr, ldc int) error {
	if err := r.be.gemmDev(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc); err != nil {
		return err
	}
	if r.timing != nil {
		r.timing.flops[stage] += 2 * float64(m) * float64(n) * float64(k)
		return r.timing.mark(stage)
	}
	return nil
}

func (r *Rehasher) mark(stage int) error {
	if r.timing != nil {
		return r.timing.mark(stage)
	}
	return nil
}

// forward runs the layers for examples [lo, lo+cnt).
func (r *Rehasher) forward(lo, cnt int) error {
	L := r.layers()
	for l := 1; l <= L; l++ {
		w, in := r.sizes[l], r.sizes[l-1]
		if err := r.gemm(stFwdGemm, false, true, cnt, w, in, r.input(l-1, lo), in, off(r.params, r.offW[l], 4), in, r.z[l], w); err != nil {
			return err
		}
		kind := int(r.act)
		if l == L {
			kind = -1
		}
		if err := r.launch(rkBiasAct, cnt*w, argInt(cnt), argInt(w), argPtr(off(r.params, r.offB[l], 4)),
			argPtr(r.z[l]), argPtr(r.h[l]), argInt(kind)); err != nil {
			return err
		}
		if err := r.mark(stFwdElem); err != nil {
			return err
		}
	}
	return nil
}

// backward propagates the δ_L already in d[L] down to d[1].
func (r *Rehasher) backward(cnt int) error {
	for l := r.layers(); l > 1; l-- {
		w, in := r.sizes[l], r.sizes[l-1]
		if err := r.gemm(stBwdGemm, false, false, cnt, in, w, r.d[l], w, off(r.params, r.offW[l], 4), in, r.d[l-1], in); err != nil {
			return err
		}
		if err := r.be.launch(kActBackward, blocks(cnt*in, block1D), 1, block1D, 1,
			argInt(int(r.act)), argInt(cnt*in), argPtr(r.z[l-1]), argPtr(r.d[l-1]), argPtr(r.d[l-1])); err != nil {
			return err
		}
		if err := r.mark(stBwdElem); err != nil {
			return err
		}
	}
	return nil
}

func (r *Rehasher) ones(cnt int) error {
	L := r.layers()
	return r.launch(rkFill, cnt*r.sizes[L], argInt(cnt*r.sizes[L]), argF64(1), argPtr(r.d[L]))
}

// stats fills sq and dz (layer l at row offset (l−1)·cap) for the batch.
func (r *Rehasher) stats(lo, cnt int, sq, dz cu.DevicePtr) error {
	for l := 1; l <= r.layers(); l++ {
		w, in := r.sizes[l], r.sizes[l-1]
		rpb := rowsPerBlock(max(w, in))
		if err := r.fn[rkRowStats].Launch(blocks(cnt, rpb), 1, 1, block1D, 1, 1, 0, cu.NoStream, []unsafe.Pointer{
			argPtr(r.d[l]), argPtr(r.z[l]), argInt(w), argPtr(r.input(l-1, lo)), argInt(in), argInt(cnt),
			argPtr(off(sq, (l-1)*r.cap, 8)), argPtr(off(dz, (l-1)*r.cap, 8)), argInt(rpb)}); err != nil {
			return fmt.Errorf("cuda: launching row_stats: %w", err)
		}
	}
	return r.mark(stStats)
}

// project writes R·a_i of the batch (after the backward of ones) into out
// (cnt × KL).
func (r *Rehasher) project(lo, cnt int, layers []int, out cu.DevicePtr) error {
	kl := r.kl
	for i, l := range layers {
		w, in := r.sizes[l], r.sizes[l-1]
		if err := r.gemm(stProjGemm, false, true, cnt, kl, w, r.d[l], w, r.u[l], w, r.pd, kl); err != nil {
			return err
		}
		if err := r.gemm(stProjGemm, false, true, cnt, kl, in, r.input(l-1, lo), in, r.vh[l], in, r.ph, kl); err != nil {
			return err
		}
		first := 0
		if i == 0 {
			first = 1
		}
		if err := r.launch(rkProjAcc, cnt*kl, argInt(cnt), argInt(kl), argPtr(r.pd), argPtr(r.ph), argPtr(r.vb[l]),
			argPtr(out), argInt(first)); err != nil {
			return err
		}
		if err := r.mark(stProjElem); err != nil {
			return err
		}
	}
	return nil
}

// finishDev launches finish_codes for points [lo, lo+cnt) whose raw
// projections are at proj (cnt × KL).
func (r *Rehasher) finishDev(h *ntk.Hasher, M float64, lo, cnt int, proj cu.DevicePtr) error {
	cfg := h.Cfg
	recentred, mips := 0, 0
	if cfg.Query == ntk.QueryRecentred {
		recentred = 1
	}
	if cfg.MIPS {
		mips = 1
	}
	ahash, bhash := r.anorm, r.b // AHash and BHash are ANorm and B unless LastLayerOnly
	if cfg.LastLayerOnly {
		ahash, bhash = r.ahash, r.bhash
	}
	err := r.launch(rkFinishCodes, cnt*cfg.L, argInt(cnt), argInt(cfg.K), argInt(cfg.L), argPtr(proj),
		argPtr(off(r.anorm, lo, 8)), argPtr(off(ahash, lo, 8)), argPtr(off(bhash, lo, 8)),
		argPtr(off(r.f0, lo, 8)), argPtr(off(r.ysum, lo, 8)), argPtr(r.c), argPtr(r.e),
		argF64(M), argInt(recentred), argF64(cfg.Alpha), argInt(mips), argPtr(off(r.codes, lo*cfg.L, 4)))
	if err != nil {
		return err
	}
	return r.mark(stFinish)
}

// finishHost downloads the raw projections at proj (cnt × KL) and finishes
// them with h.FinishCodes on the CPU backend.
func (r *Rehasher) finishHost(h *ntk.Hasher, lin *ntk.Linearization, lo, cnt int, proj cu.DevicePtr) error {
	kl := r.kl
	if len(r.hostProj) < r.cap*kl {
		r.hostProj = make([]float32, r.cap*kl)
	}
	buf := r.hostProj[:cnt*kl]
	if err := download(buf, proj, 1, cnt*kl, cnt*kl); err != nil {
		return err
	}
	if err := r.mark(stDownload); err != nil {
		return err
	}
	h.FinishCodes(r.CPU, buf, lin, lo, cnt)
	return r.mark(stFinish)
}

// setHasher uploads h's projections (once per hasher) and sizes the hash
// buffers. Worker only.
func (r *Rehasher) setHasher(h *ntk.Hasher) error {
	kl := h.Cfg.K * h.Cfg.L
	resident := !r.ForceRecompute
	if resident {
		free, _, err := cu.MemInfo()
		if err != nil {
			return fmt.Errorf("cuda: MemInfo: %w", err)
		}
		have := int64(0)
		if r.hashFor != nil && r.kl == kl && r.projRows == r.n {
			have = int64(r.n) * int64(kl) * 4
		}
		resident = int64(r.n)*int64(kl)*4 <= (free+have)/2
	}
	rows := r.cap
	if resident {
		rows = r.n
	}
	if r.hashFor == h && r.kl == kl && r.projRows == rows {
		r.resident = resident
		return nil
	}
	for _, p := range r.hashBufs {
		if err := cu.MemFree(p); err != nil {
			return fmt.Errorf("cuda: Rehasher: freeing: %w", err)
		}
	}
	r.hashBufs, r.hashFor = nil, nil
	alloc := func(bytes int64) (cu.DevicePtr, error) {
		p, err := cu.MemAlloc(max(bytes, 4))
		if err != nil {
			return 0, fmt.Errorf("cuda: Rehasher: allocating %d bytes for hashing: %w", bytes, err)
		}
		r.hashBufs = append(r.hashBufs, p)
		return p, nil
	}
	up := func(v []float32) (cu.DevicePtr, error) {
		p, err := alloc(int64(len(v)) * 4)
		if err != nil {
			return 0, err
		}
		if len(v) > 0 {
			err = upload(p, v, 1, len(v), len(v))
		}
		return p, err
	}
	pr := h.Projections()
	L := r.layers()
	r.u, r.vh, r.vb = make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1)
	var err error
	for l := 1; l <= L; l++ {
		if len(pr.U[l]) != kl*r.sizes[l] || len(pr.Vh[l]) != kl*r.sizes[l-1] || len(pr.Vb[l]) != kl {
			return fmt.Errorf("cuda: Rehasher: the hasher's projections of layer %d do not fit the model", l)
		}
		if r.u[l], err = up(pr.U[l]); err != nil {
			return err
		}
		if r.vh[l], err = up(pr.Vh[l]); err != nil {
			return err
		}
		if r.vb[l], err = up(pr.Vb[l]); err != nil {
			return err
		}
	}
	if r.c, err = up(pr.C); err != nil {
		return err
	}
	if r.e, err = up(pr.E); err != nil {
		return err
	}
	if r.pd, err = alloc(int64(r.cap*kl) * 4); err != nil {
		return err
	}
	if r.ph, err = alloc(int64(r.cap*kl) * 4); err != nil {
		return err
	}
	if r.proj, err = alloc(int64(rows) * int64(kl) * 4); err != nil {
		return err
	}
	if r.codes, err = alloc(int64(r.n) * int64(h.Cfg.L) * 4); err != nil {
		return err
	}
	r.hashFor, r.kl, r.tables, r.projRows, r.resident = h, kl, h.Cfg.L, rows, resident
	return nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Rehash linearizes m at its current parameters over the Rehasher's data
// set and, with a hasher, computes every point's codes: the same results as
// ntk.Rehash(be, m, x, y, n, h, opt, lin) up to float32 rounding (see
// rehash_test.go for the tolerances), including h.SetScale. lin is reused
// when its sizes fit.
func (r *Rehasher) Rehash(m *nn.MLP, h *ntk.Hasher, lin *ntk.Linearization) (*ntk.Linearization, error) {
	if !sameShape(m.Sizes, r.sizes) || m.Activation != r.act {
		return nil, fmt.Errorf("cuda: Rehash: model %v (%v) is not the shape the Rehasher was made for, %v (%v)", m.Sizes, m.Activation, r.sizes, r.act)
	}
	return r.Linearize(m.Params, h, lin)
}

var _ ntk.Linearizer = (*Rehasher)(nil)

// Linearize implements ntk.Linearizer: Rehash at parameters params of the
// model shape the Rehasher was made for.
func (r *Rehasher) Linearize(params []float32, h *ntk.Hasher, lin *ntk.Linearization) (*ntk.Linearization, error) {
	if r.closed {
		return nil, errors.New("cuda: Rehash on a closed Rehasher")
	}
	if len(params) != r.numParams {
		return nil, fmt.Errorf("cuda: Rehash: %d parameters, the Rehasher's model has %d", len(params), r.numParams)
	}
	if h != nil {
		if h.Cfg.Family != ntk.Structured {
			return nil, fmt.Errorf("cuda: Rehash: the %v projection family is not supported on cuda yet (use structured)", h.Cfg.Family)
		}
		if h.Cfg.K > 32 {
			return nil, fmt.Errorf("cuda: Rehash: K=%d > 32", h.Cfg.K)
		}
	}
	if _, onGPU := r.CPU.(*Backend); onGPU && r.HostFinish {
		return nil, errors.New("cuda: Rehasher.CPU must be a host backend (a cuda Backend would deadlock inside the rehash)")
	}
	if r.CPU == nil {
		r.CPU = kernels.Generic
	}
	n, L, out := r.n, r.layers(), r.sizes[len(r.sizes)-1]
	// Allocation as ntk.Rehash does it.
	if lin == nil || lin.N != n {
		lin = &ntk.Linearization{N: n, ANorm: make([]float64, n), B: make([]float64, n), F0: make([]float64, n),
			YSum: make([]float64, n), GradNorm0: make([]float64, n)}
	}
	lin.W0 = append(lin.W0[:0], params...)
	lastOnly := h != nil && h.Cfg.LastLayerOnly
	if lastOnly {
		if len(lin.BHash) != n || &lin.BHash[0] == &lin.B[0] {
			lin.BHash, lin.AHash = make([]float64, n), make([]float64, n)
		}
	} else {
		lin.BHash, lin.AHash = lin.B, lin.ANorm
	}
	if h != nil && len(lin.Codes) != n*h.Cfg.L {
		lin.Codes = make([]uint32, n*h.Cfg.L)
	}
	var hashed []int
	if h != nil {
		hashed = h.Projections().Layers
	}
	lastOnlyArg := 0
	if lastOnly {
		lastOnlyArg = 1
	}
	err := r.be.do(func() error {
		if r.timing != nil {
			r.timing.start()
		}
		if h != nil {
			if err := r.setHasher(h); err != nil {
				return err
			}
		}
		resident := h != nil && r.resident
		if err := upload(r.params, params, 1, r.numParams, r.numParams); err != nil {
			return err
		}
		if err := r.mark(stOther); err != nil {
			return err
		}
		for lo := 0; lo < n; lo += r.cap {
			cnt := min(r.cap, n-lo)
			if err := r.forward(lo, cnt); err != nil {
				return err
			}
			resid := cu.DevicePtr(0)
			if out > 1 {
				resid = r.d[L]
			}
			if err := r.launch(rkOutPrep, cnt, argInt(cnt), argInt(out), argPtr(r.z[L]), argPtr(off(r.y, lo*out, 4)),
				argPtr(off(r.f0, lo, 8)), argPtr(off(r.ysum, lo, 8)), argPtr(resid)); err != nil {
				return err
			}
			if err := r.mark(stFwdElem); err != nil {
				return err
			}
			if out > 1 { // exact loss-gradient norms
				if err := r.backward(cnt); err != nil {
					return err
				}
				if err := r.stats(lo, cnt, r.sqloss, r.dz); err != nil {
					return err
				}
			}
			if err := r.ones(cnt); err != nil {
				return err
			}
			if err := r.backward(cnt); err != nil {
				return err
			}
			if err := r.stats(lo, cnt, r.sq, r.dz); err != nil {
				return err
			}
			if err := r.launch(rkPointFinish, cnt, argInt(cnt), argInt(L), argInt(r.cap), argPtr(r.sq), argPtr(r.dz),
				argPtr(r.sqloss), argInt(out), argInt(lastOnlyArg), argPtr(off(r.f0, lo, 8)), argPtr(off(r.ysum, lo, 8)),
				argPtr(off(r.anorm, lo, 8)), argPtr(off(r.b, lo, 8)), argPtr(off(r.gn, lo, 8)),
				argPtr(off(r.ahash, lo, 8)), argPtr(off(r.bhash, lo, 8))); err != nil {
				return err
			}
			if err := r.mark(stStats); err != nil {
				return err
			}
			if resident {
				if err := r.project(lo, cnt, hashed, off(r.proj, lo*r.kl, 4)); err != nil {
					return err
				}
			}
		}
		dl := []struct {
			dst []float64
			src cu.DevicePtr
		}{{lin.ANorm, r.anorm}, {lin.B, r.b}, {lin.F0, r.f0}, {lin.YSum, r.ysum}, {lin.GradNorm0, r.gn}}
		if lastOnly {
			dl = append(dl, struct {
				dst []float64
				src cu.DevicePtr
			}{lin.AHash, r.ahash}, struct {
				dst []float64
				src cu.DevicePtr
			}{lin.BHash, r.bhash})
		}
		for _, t := range dl {
			if err := downloadF64(t.dst[:n], t.src); err != nil {
				return err
			}
		}
		if err := r.mark(stDownload); err != nil {
			return err
		}
		r.lastResident, r.lastHostFinish = resident, r.HostFinish
		if h == nil {
			return cu.Synchronize()
		}
		h.SetScale(lin)
		if err := r.mark(stOther); err != nil {
			return err
		}
		if resident {
			if r.HostFinish {
				for lo := 0; lo < n; lo += r.cap {
					cnt := min(r.cap, n-lo)
					if err := r.finishHost(h, lin, lo, cnt, off(r.proj, lo*r.kl, 4)); err != nil {
						return err
					}
				}
			} else if err := r.finishDev(h, lin.M, 0, n, r.proj); err != nil {
				return err
			}
		} else {
			for lo := 0; lo < n; lo += r.cap {
				cnt := min(r.cap, n-lo)
				if err := r.forward(lo, cnt); err != nil {
					return err
				}
				if err := r.ones(cnt); err != nil {
					return err
				}
				if err := r.backward(cnt); err != nil {
					return err
				}
				if err := r.project(lo, cnt, hashed, r.proj); err != nil {
					return err
				}
				if r.HostFinish {
					if err := r.finishHost(h, lin, lo, cnt, r.proj); err != nil {
						return err
					}
				} else if err := r.finishDev(h, lin.M, lo, cnt, r.proj); err != nil {
					return err
				}
			}
		}
		if !r.HostFinish {
			if err := downloadU32(lin.Codes[:n*h.Cfg.L], r.codes); err != nil {
				return err
			}
			if err := r.mark(stDownload); err != nil {
				return err
			}
		}
		if err := cu.Synchronize(); err != nil {
			return fmt.Errorf("cuda: synchronize after rehash: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return lin, nil
}

// DownloadProjections copies the raw projections R·a_i of points
// [lo, lo+cnt) (cnt × K·L, before code finishing) of the last Rehash into
// dst. It needs that Rehash to have kept them resident (Resident()).
func (r *Rehasher) DownloadProjections(dst []float32, lo, cnt int) error {
	if !r.lastResident {
		return errors.New("cuda: DownloadProjections: the last Rehash did not keep the projections on the device")
	}
	if lo < 0 || cnt < 0 || lo+cnt > r.n || len(dst) < cnt*r.kl {
		return fmt.Errorf("cuda: DownloadProjections(%d, %d) out of range (N=%d, dst %d, K·L=%d)", lo, cnt, r.n, len(dst), r.kl)
	}
	if cnt == 0 {
		return nil
	}
	return r.be.do(func() error { return download(dst, off(r.proj, lo*r.kl, 4), 1, cnt*r.kl, cnt*r.kl) })
}

// ---- stage timing (benchmarks only) ----

const (
	stFwdGemm = iota
	stFwdElem
	stBwdGemm
	stBwdElem
	stStats
	stProjGemm
	stProjElem
	stFinish
	stDownload
	stOther
	numStages
)

var stageNames = [numStages]string{"fwd-gemm", "fwd-elem", "bwd-gemm", "bwd-elem", "stats", "proj-gemm", "proj-elem",
	"finish", "download", "other"}

// stageTimer synchronizes after every stage and charges the host time since
// the previous mark to it. Synchronizing costs time of its own (the sum of
// the stages exceeds an untimed Rehash): use it for the split only.
type stageTimer struct {
	last  time.Time
	dur   [numStages]time.Duration
	flops [numStages]float64
}

func (t *stageTimer) start() { t.last = time.Now() }

func (t *stageTimer) mark(stage int) error {
	if err := cu.Synchronize(); err != nil {
		return fmt.Errorf("cuda: synchronize (stage %s): %w", stageNames[stage], err)
	}
	now := time.Now()
	t.dur[stage] += now.Sub(t.last)
	t.last = now
	return nil
}
