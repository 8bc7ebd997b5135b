//go:build cuda

package cuda

import (
	_ "embed"
	"errors"
	"fmt"
	"math"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/ntklsh/ntklsh/engine"
	"github.com/ntklsh/ntklsh/engine/nn"
	"github.com/ntklsh/ntklsh/engine/ntk"
	"github.com/ntklsh/ntklsh/engine/sample"
)

//go:embed stepper.ptx
var stepperPTX string

// Kernel IDs of stepper.cu, indices into stepperKernelNames.
const (
	skGather = iota
	skLoss
	skQDots
	numStepperKernels
)

// stepperKernelNames lists the kernels of stepper.cu in the order they are
// defined there (ptx_test.go checks it).
var stepperKernelNames = [numStepperKernels]string{"st_gather", "st_loss", "st_qdots"}

// Stepper is an engine.Stepper (and the lsh sampler's sample.QueryProjector) on a CUDA device: it keeps the data
// set, the parameters and a gradient buffer on the device and runs the lsh
// query's projections and the importance-weighted SGD step there. Per Step
// only the B indices and weights go up (one copy) and the loss (8 bytes)
// comes down; per Query the K·L projections come down (and w − w0's w0 goes
// up when it may have changed, see Query). Nothing is allocated per step.
//
// Numerics: cuBLAS FP32 GEMMs (no TF32), float64 reductions, elementwise
// float32 operations rounded as the engine's; results equal the host
// engine's to float32 rounding, not bit for bit (stepper_test.go documents
// the tolerances). Only the Structured projection family is supported.
// A Stepper is not safe for concurrent use (its Backend is).
type Stepper struct {
	be        *Backend
	sizes     []int
	act       nn.Activation
	n, cap    int
	offW      []int
	offB      []int
	numParams int

	mod       cu.Module
	fn        [numStepperKernels]cu.Function
	rmod      cu.Module   // rehash.ptx, for its bias_act
	biasAct   cu.Function // rehash.cu's bias_act
	allocs    []cu.DevicePtr
	closed    bool
	sharedFor *Rehasher // non-nil when x and y are the Rehasher's

	x, y         cu.DevicePtr // N×In, N×Out
	params, grad cu.DevicePtr // P
	xb, yb       cu.DevicePtr // cap×In, cap×Out
	z, h, d      []cu.DevicePtr
	in           cu.DevicePtr // cap float64 scales, then cap int32 indices
	loss         cu.DevicePtr // 1 float64
	hostIn       []uint64     // host side of in
	hostLoss     []float64    // one float64, its own allocation: a pointer into the Stepper (which holds Go pointers) may not go to cgo

	// Query state: the hasher's projections (uploaded once per hasher).
	hashFor    *ntk.Hasher
	kl         int
	layers     []int
	qbufs      []cu.DevicePtr
	u, vh, vb  []cu.DevicePtr
	t, proj    cu.DevicePtr // kl × max width, kl
	delta, w0  cu.DevicePtr // P each
	w0Ptr      *float32
	w0Len      int
	w0Stale    bool
	w0Uploads  int // for tests: how often w0 went to the device
	stepsTaken int
}

var (
	_ engine.Stepper        = (*Stepper)(nil)
	_ sample.QueryProjector = (*Stepper)(nil)
)

// Start implements engine.Stepper: it refuses the settings the device
// stepper does not support (engine.DeviceStepSupported) and uploads params.
func (s *Stepper) Start(cfg engine.Config, params []float32) error {
	if err := engine.DeviceStepSupported(cfg); err != nil {
		return err
	}
	if err := s.Upload(params); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	return nil
}

// Sync implements engine.Stepper: it downloads the device parameters into
// params.
func (s *Stepper) Sync(params []float32) error {
	if err := s.Download(params); err != nil {
		return fmt.Errorf("device: %w", err)
	}
	return nil
}

// NewStepper uploads the data set x (n × m.In) and y (n × m.Out) to the
// device of be and allocates the parameters, the gradient and the buffers of
// minibatches of up to maxBatch examples for models of m's shape (m's
// parameters are not uploaded: Upload does that).
func NewStepper(be *Backend, m *nn.MLP, x, y []float32, n, maxBatch int) (*Stepper, error) {
	if n < 1 {
		return nil, errors.New("cuda: NewStepper needs at least one data point")
	}
	if len(x) < n*m.In || len(y) < n*m.Out {
		return nil, fmt.Errorf("cuda: NewStepper: x has %d values and y %d, want at least %d and %d", len(x), len(y), n*m.In, n*m.Out)
	}
	s, err := newStepper(be, m, n, maxBatch)
	if err != nil {
		return nil, err
	}
	err = be.do(func() error {
		if s.x, err = s.alloc(int64(n*m.In) * 4); err != nil {
			return err
		}
		if s.y, err = s.alloc(int64(n*m.Out) * 4); err != nil {
			return err
		}
		if err := upload(s.x, x, 1, n*m.In, n*m.In); err != nil {
			return err
		}
		return upload(s.y, y, 1, n*m.Out, n*m.Out)
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// NewStepperWith makes a Stepper that uses the data set the Rehasher r
// already holds on the device (no second copy). r must be open for as long
// as the Stepper is used; close the Stepper first.
func NewStepperWith(r *Rehasher, m *nn.MLP, maxBatch int) (*Stepper, error) {
	if r.closed {
		return nil, errors.New("cuda: NewStepperWith: the Rehasher is closed")
	}
	if !sameShape(m.Sizes, r.sizes) || m.Activation != r.act {
		return nil, fmt.Errorf("cuda: NewStepperWith: model %v (%v) is not the Rehasher's shape %v (%v)", m.Sizes, m.Activation, r.sizes, r.act)
	}
	s, err := newStepper(r.be, m, r.n, maxBatch)
	if err != nil {
		return nil, err
	}
	s.x, s.y, s.sharedFor = r.x, r.y, r
	return s, nil
}

func newStepper(be *Backend, m *nn.MLP, n, maxBatch int) (*Stepper, error) {
	if maxBatch < 1 {
		return nil, fmt.Errorf("cuda: Stepper batch %d must be at least 1", maxBatch)
	}
	if m.Activation != nn.ReLU && m.Activation != nn.Tanh {
		return nil, fmt.Errorf("cuda: Stepper: unsupported activation %v", m.Activation)
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("cuda: Stepper: %d points exceed int32 indices", n)
	}
	L := m.Layers()
	s := &Stepper{be: be, sizes: append([]int(nil), m.Sizes...), act: m.Activation, n: n, cap: maxBatch,
		offW: make([]int, L+1), offB: make([]int, L+1), w0Stale: true}
	for l := 1; l <= L; l++ {
		s.offW[l], s.offB[l] = m.WeightOffset(l), m.BiasOffset(l)
	}
	s.numParams = m.NumParams()
	s.hostIn = make([]uint64, maxBatch+(maxBatch+1)/2)
	s.hostLoss = make([]float64, 1)
	err := be.do(func() error {
		mod, err := cu.LoadData(stepperPTX)
		if err != nil {
			return fmt.Errorf("cuda: loading stepper.ptx: %w", err)
		}
		s.mod = mod
		for i, k := range stepperKernelNames {
			if s.fn[i], err = mod.Function(k); err != nil {
				return fmt.Errorf("cuda: kernel %s in stepper.ptx: %w", k, err)
			}
		}
		if s.rmod, err = cu.LoadData(rehashPTX); err != nil {
			return fmt.Errorf("cuda: loading rehash.ptx: %w", err)
		}
		if s.biasAct, err = s.rmod.Function(rehashKernelNames[rkBiasAct]); err != nil {
			return fmt.Errorf("cuda: kernel bias_act in rehash.ptx: %w", err)
		}
		for _, q := range []*cu.DevicePtr{&s.params, &s.grad} {
			if *q, err = s.alloc(int64(s.numParams) * 4); err != nil {
				return err
			}
		}
		if s.xb, err = s.alloc(int64(maxBatch*m.In) * 4); err != nil {
			return err
		}
		if s.yb, err = s.alloc(int64(maxBatch*m.Out) * 4); err != nil {
			return err
		}
		if s.in, err = s.alloc(int64(len(s.hostIn)) * 8); err != nil {
			return err
		}
		if s.loss, err = s.alloc(8); err != nil {
			return err
		}
		s.z, s.h, s.d = make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1)
		for l := 1; l <= L; l++ {
			bytes := int64(maxBatch*m.Sizes[l]) * 4
			if s.z[l], err = s.alloc(bytes); err != nil {
				return err
			}
			if s.d[l], err = s.alloc(bytes); err != nil {
				return err
			}
			if l < L {
				if s.h[l], err = s.alloc(bytes); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// alloc allocates device memory owned by the Stepper (worker only).
func (s *Stepper) alloc(bytes int64) (cu.DevicePtr, error) {
	p, err := cu.MemAlloc(max(bytes, 4))
	if err != nil {
		return 0, fmt.Errorf("cuda: Stepper: allocating %d bytes: %w", bytes, err)
	}
	s.allocs = append(s.allocs, p)
	return p, nil
}

// Close frees the Stepper's device memory and module (not a shared
// Rehasher's data). Closing twice is a no-op.
func (s *Stepper) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.be.do(func() error {
		var errs []error
		for _, p := range append(s.allocs, s.qbufs...) {
			if err := cu.MemFree(p); err != nil {
				errs = append(errs, fmt.Errorf("cuda: Stepper: freeing: %w", err))
			}
		}
		s.allocs, s.qbufs = nil, nil
		for _, m := range []struct {
			mod  cu.Module
			name string
		}{{s.mod, "stepper.ptx"}, {s.rmod, "rehash.ptx"}} {
			if m.mod != (cu.Module{}) {
				if err := m.mod.Unload(); err != nil {
					errs = append(errs, fmt.Errorf("cuda: Stepper: unloading %s: %w", m.name, err))
				}
			}
		}
		return errors.Join(errs...)
	})
}

// MaxBatch is the largest minibatch Step accepts; Steps the number of
// Steps taken.
func (s *Stepper) MaxBatch() int { return s.cap }
func (s *Stepper) Steps() int    { return s.stepsTaken }

func (s *Stepper) usable() error {
	if s.closed {
		return errors.New("cuda: Stepper is closed")
	}
	if s.sharedFor != nil && s.sharedFor.closed {
		return errors.New("cuda: Stepper: the Rehasher whose data it uses is closed")
	}
	return nil
}

func (s *Stepper) launch(k int, gx, threads int, args ...unsafe.Pointer) error {
	if err := s.fn[k].Launch(gx, 1, 1, threads, 1, 1, 0, cu.NoStream, args); err != nil {
		return fmt.Errorf("cuda: launching %s (grid %d, block %d): %w", stepperKernelNames[k], gx, threads, err)
	}
	return nil
}

func (s *Stepper) launch1D(k int, n int, args ...unsafe.Pointer) error {
	if n <= 0 {
		return nil
	}
	return s.launch(k, blocks(n, block1D), block1D, args...)
}

// Upload copies params (the model's layout) to the device.
func (s *Stepper) Upload(params []float32) error {
	if err := s.usable(); err != nil {
		return err
	}
	if len(params) != s.numParams {
		return fmt.Errorf("cuda: Stepper.Upload: %d parameters, want %d", len(params), s.numParams)
	}
	s.w0Stale = true
	return s.be.do(func() error { return upload(s.params, params, 1, s.numParams, s.numParams) })
}

// Download copies the device parameters into params.
func (s *Stepper) Download(params []float32) error {
	if err := s.usable(); err != nil {
		return err
	}
	if len(params) != s.numParams {
		return fmt.Errorf("cuda: Stepper.Download: %d parameters, want %d", len(params), s.numParams)
	}
	s.w0Stale = true
	return s.be.do(func() error {
		if err := download(params, s.params, 1, s.numParams, s.numParams); err != nil {
			return err
		}
		return nil
	})
}

// setHasher uploads h's projections once per hasher (worker only).
func (s *Stepper) setHasher(h *ntk.Hasher) error {
	if s.hashFor == h {
		return nil
	}
	for _, p := range s.qbufs {
		if err := cu.MemFree(p); err != nil {
			return fmt.Errorf("cuda: Stepper: freeing: %w", err)
		}
	}
	s.qbufs, s.hashFor = nil, nil
	alloc := func(bytes int64) (cu.DevicePtr, error) {
		p, err := cu.MemAlloc(max(bytes, 4))
		if err != nil {
			return 0, fmt.Errorf("cuda: Stepper: allocating %d bytes for the query: %w", bytes, err)
		}
		s.qbufs = append(s.qbufs, p)
		return p, nil
	}
	up := func(v []float32) (cu.DevicePtr, error) {
		p, err := alloc(int64(len(v)) * 4)
		if err == nil && len(v) > 0 {
			err = upload(p, v, 1, len(v), len(v))
		}
		return p, err
	}
	kl := h.Cfg.K * h.Cfg.L
	pr := h.Projections()
	L := len(s.sizes) - 1
	s.u, s.vh, s.vb = make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1), make([]cu.DevicePtr, L+1)
	maxW := 1
	var err error
	for _, l := range pr.Layers {
		if l < 1 || l > L || len(pr.U[l]) != kl*s.sizes[l] || len(pr.Vh[l]) != kl*s.sizes[l-1] || len(pr.Vb[l]) != kl {
			return fmt.Errorf("cuda: Stepper: the hasher's projections of layer %d do not fit the model", l)
		}
		if s.u[l], err = up(pr.U[l]); err != nil {
			return err
		}
		if s.vh[l], err = up(pr.Vh[l]); err != nil {
			return err
		}
		if s.vb[l], err = up(pr.Vb[l]); err != nil {
			return err
		}
		maxW = max(maxW, s.sizes[l])
	}
	if s.t, err = alloc(int64(kl*maxW) * 4); err != nil {
		return err
	}
	if s.proj, err = alloc(int64(kl) * 4); err != nil {
		return err
	}
	if h.Cfg.Query == ntk.QueryRecentred {
		if s.delta, err = alloc(int64(s.numParams) * 4); err != nil {
			return err
		}
		if s.w0, err = alloc(int64(s.numParams) * 4); err != nil {
			return err
		}
	}
	s.hashFor, s.kl, s.layers = h, kl, append([]int(nil), pr.Layers...)
	s.w0Ptr, s.w0Stale = nil, true
	return nil
}

// Query sets proj[:K·L] to the raw structured projections of the device
// parameters: R·w (paper query) or R·(w − w0) (re-centred). Per hashed layer
// l, T = Vh_l W_lᵀ (cuBLAS), then proj_j += Σ_i U_l[j,i] (T[j,i] + vb_l[j] b_l[i]).
//
// w0 is uploaded on the first Query, after every Upload or Download, and
// when a different slice is passed; otherwise the device keeps its copy.
// The engine's trainer changes lin.W0 only inside a rehash, which it
// always precedes with Download. A caller that rewrites w0 in place
// between Queries with no Upload or Download must call ForgetW0.
func (s *Stepper) Query(h *ntk.Hasher, w0 []float32, proj []float32) error {
	if err := s.usable(); err != nil {
		return err
	}
	if h == nil {
		return errors.New("cuda: Stepper.Query: nil hasher")
	}
	if h.Cfg.Family != ntk.Structured {
		return fmt.Errorf("cuda: Stepper.Query: the %v projection family is not supported on cuda yet (use structured)", h.Cfg.Family)
	}
	kl := h.Cfg.K * h.Cfg.L
	if len(proj) < kl {
		return fmt.Errorf("cuda: Stepper.Query: proj has %d values, want %d", len(proj), kl)
	}
	recentred := h.Cfg.Query == ntk.QueryRecentred
	if recentred && len(w0) != s.numParams {
		return fmt.Errorf("cuda: Stepper.Query: w0 has %d values, want %d", len(w0), s.numParams)
	}
	return s.be.do(func() error {
		if err := s.setHasher(h); err != nil {
			return err
		}
		v := s.params
		if recentred {
			if s.w0Stale || s.w0Ptr != &w0[0] || s.w0Len != len(w0) {
				if err := upload(s.w0, w0, 1, s.numParams, s.numParams); err != nil {
					return err
				}
				s.w0Ptr, s.w0Len, s.w0Stale = &w0[0], len(w0), false
				s.w0Uploads++
			}
			if err := cu.MemcpyDtoD(s.delta, s.params, int64(s.numParams)*4); err != nil {
				return fmt.Errorf("cuda: Stepper.Query: copying the parameters: %w", err)
			}
			// delta = w + (−1)·w0 = w − w0 exactly, as the host's subtraction.
			if err := s.be.axpyDev(s.numParams, -1, s.w0, s.delta); err != nil {
				return err
			}
			v = s.delta
		}
		for i, l := range s.layers {
			w, in := s.sizes[l], s.sizes[l-1]
			if err := s.be.gemmDev(false, true, kl, w, in, 1, s.vh[l], in, off(v, s.offW[l], 4), in, 0, s.t, w); err != nil {
				return err
			}
			first := 0
			if i == 0 {
				first = 1
			}
			if err := s.launch(skQDots, kl, block1D, argInt(kl), argInt(w), argPtr(s.u[l]), argPtr(s.t), argPtr(s.vb[l]),
				argPtr(off(v, s.offB[l], 4)), argPtr(s.proj), argInt(first)); err != nil {
				return err
			}
		}
		if len(s.layers) == 0 {
			clear(proj[:kl])
			return nil
		}
		return download(proj[:kl], s.proj, 1, kl, kl)
	})
}

// ForgetW0 makes the next re-centred Query upload its w0 again.
func (s *Stepper) ForgetW0() { s.w0Stale = true }

// input returns h_l of the minibatch (h_0 = the gathered x rows).
func (s *Stepper) input(l int) cu.DevicePtr {
	if l == 0 {
		return s.xb
	}
	return s.h[l]
}

// Step computes the importance-weighted minibatch gradient
// (1/B) Σ_b w_b ∇ℓ_{idx_b}, ℓ_i = ½|f(x_i) − y_i|², at the device
// parameters, subtracts lr times it, and returns the weighted loss
// (1/B) Σ_b w_b ℓ_{idx_b} before the update. It matches the engine's
// minibatchGrad and Axpy step: dOut = float32(w_b/B)·(f − y), backward,
// W_l −= lr·δ_lᵀ h_{l−1}, b_l −= lr·Σ_b δ_l.
func (s *Stepper) Step(idx []int, w []float64, lr float64) (loss float64, finite bool, err error) {
	loss, err = s.step(idx, w, lr)
	return loss, true, err
}

func (s *Stepper) step(idx []int, w []float64, lr float64) (float64, error) {
	if err := s.usable(); err != nil {
		return 0, err
	}
	B := len(idx)
	if len(w) != B {
		return 0, fmt.Errorf("cuda: Stepper.Step: %d indices and %d weights", B, len(w))
	}
	if B > s.cap {
		return 0, fmt.Errorf("cuda: Stepper.Step: minibatch of %d exceeds the Stepper's %d", B, s.cap)
	}
	if B == 0 {
		s.stepsTaken++
		return 0, nil
	}
	sc := s.hostIn[:B]
	ix := unsafe.Slice((*int32)(unsafe.Pointer(&s.hostIn[s.cap])), s.cap)
	for b, i := range idx {
		if i < 0 || i >= s.n {
			return 0, fmt.Errorf("cuda: Stepper.Step: index %d outside [0, %d)", i, s.n)
		}
		ix[b] = int32(i)
		sc[b] = math.Float64bits(w[b] / float64(B))
	}
	L := len(s.sizes) - 1
	in0, out := s.sizes[0], s.sizes[L]
	err := s.be.do(func() error {
		bytes := int64(s.cap)*8 + int64(B)*4
		if err := cu.MemcpyHtoD(s.in, unsafe.Pointer(&s.hostIn[0]), bytes); err != nil {
			return fmt.Errorf("cuda: Stepper.Step: copying the minibatch: %w", err)
		}
		idxDev := off(s.in, s.cap, 8)
		if err := s.launch1D(skGather, B*in0, argInt(B), argInt(in0), argPtr(idxDev), argPtr(s.x), argPtr(s.xb)); err != nil {
			return err
		}
		if err := s.launch1D(skGather, B*out, argInt(B), argInt(out), argPtr(idxDev), argPtr(s.y), argPtr(s.yb)); err != nil {
			return err
		}
		// Forward.
		for l := 1; l <= L; l++ {
			wd, in := s.sizes[l], s.sizes[l-1]
			if err := s.be.gemmDev(false, true, B, wd, in, 1, s.input(l-1), in, off(s.params, s.offW[l], 4), in, 0, s.z[l], wd); err != nil {
				return err
			}
			kind := int(s.act)
			if l == L {
				kind = -1
			}
			if err := s.biasAct.Launch(blocks(B*wd, block1D), 1, 1, block1D, 1, 1, 0, cu.NoStream, []unsafe.Pointer{
				argInt(B), argInt(wd), argPtr(off(s.params, s.offB[l], 4)), argPtr(s.z[l]), argPtr(s.h[l]), argInt(kind)}); err != nil {
				return fmt.Errorf("cuda: launching bias_act (%d threads): %w", B*wd, err)
			}
		}
		// Loss and dOut = (w_b/B)(f − y) into d[L].
		if err := s.launch(skLoss, 1, block1D, argInt(B), argInt(out), argPtr(s.in), argPtr(s.z[L]), argPtr(s.yb),
			argPtr(s.d[L]), argPtr(s.loss)); err != nil {
			return err
		}
		// Backward.
		for l := L; l > 1; l-- {
			wd, in := s.sizes[l], s.sizes[l-1]
			if err := s.be.gemmDev(false, false, B, in, wd, 1, s.d[l], wd, off(s.params, s.offW[l], 4), in, 0, s.d[l-1], in); err != nil {
				return err
			}
			if err := s.be.launch(kActBackward, blocks(B*in, block1D), 1, block1D, 1,
				argInt(int(s.act)), argInt(B*in), argPtr(s.z[l-1]), argPtr(s.d[l-1]), argPtr(s.d[l-1])); err != nil {
				return err
			}
		}
		// Gradient: W_l = δ_lᵀ h_{l−1}, b_l = Σ_b δ_l.
		for l := 1; l <= L; l++ {
			wd, in := s.sizes[l], s.sizes[l-1]
			if err := s.be.gemmDev(true, false, wd, in, B, 1, s.d[l], wd, s.input(l-1), in, 0, off(s.grad, s.offW[l], 4), in); err != nil {
				return err
			}
			if err := s.be.colSumsDev(B, wd, s.d[l], wd, off(s.grad, s.offB[l], 4)); err != nil {
				return err
			}
		}
		if err := s.be.axpyDev(s.numParams, float32(-lr), s.grad, s.params); err != nil {
			return err
		}
		if err := cu.MemcpyDtoH(unsafe.Pointer(&s.hostLoss[0]), s.loss, 8); err != nil {
			return fmt.Errorf("cuda: Stepper.Step: copying the loss: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.stepsTaken++
	return s.hostLoss[0], nil
}
