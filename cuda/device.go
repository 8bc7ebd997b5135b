//go:build cuda

package cuda

import (
	"fmt"

	"gorgonia.org/cu"
)

// Buffer is float32 memory on a Backend's device. Make one with NewBuffer or
// Upload, move data with CopyFrom and Download, and release it with Free
// (or by closing the Backend). Slice makes views that share the memory.
// Operations on a Buffer run on its Backend's worker thread, ordered after
// all earlier work of that Backend.
type Buffer struct {
	be    *Backend
	ptr   cu.DevicePtr // first element
	n     int
	owner *Buffer // the allocation; itself for an owner
	freed bool    // on the owner
}

// NewBuffer allocates n float32 on the device (contents undefined).
func (be *Backend) NewBuffer(n int) (*Buffer, error) {
	if n < 0 {
		panic("cuda: NewBuffer with negative length")
	}
	buf := &Buffer{be: be, n: n}
	buf.owner = buf
	if n == 0 {
		return buf, be.do(func() error { return nil })
	}
	err := be.do(func() error {
		p, err := cu.MemAlloc(int64(n) * 4)
		if err != nil {
			return fmt.Errorf("cuda: allocating %d float32: %w", n, err)
		}
		buf.ptr = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	return buf, nil
}

// Upload allocates a Buffer of len(host) elements and copies host into it.
func (be *Backend) Upload(host []float32) (*Buffer, error) {
	buf, err := be.NewBuffer(len(host))
	if err != nil {
		return nil, err
	}
	if err := buf.CopyFrom(host); err != nil {
		buf.Free()
		return nil, err
	}
	return buf, nil
}

// Len is the number of float32 elements.
func (buf *Buffer) Len() int { return buf.n }

// Slice returns a view of elements [from, to) sharing the memory of buf.
// A view is valid while the allocation it came from is; it cannot be freed.
func (buf *Buffer) Slice(from, to int) *Buffer {
	buf.live()
	if from < 0 || to < from || to > buf.n {
		panic(fmt.Sprintf("cuda: Buffer.Slice(%d, %d) out of range of %d elements", from, to, buf.n))
	}
	return &Buffer{be: buf.be, ptr: buf.ptr + cu.DevicePtr(from*4), n: to - from, owner: buf.owner}
}

// Free releases the allocation. Freeing twice is a no-op; freeing a view
// panics (free the Buffer it came from).
func (buf *Buffer) Free() error {
	if buf.owner != buf {
		panic("cuda: Free of a Buffer view; free the Buffer it was sliced from")
	}
	if buf.freed {
		return nil
	}
	buf.freed = true
	if buf.ptr == 0 {
		return nil
	}
	return buf.be.do(func() error {
		if err := cu.MemFree(buf.ptr); err != nil {
			return fmt.Errorf("cuda: freeing a Buffer: %w", err)
		}
		return nil
	})
}

func (buf *Buffer) live() {
	if buf.owner.freed {
		panic("cuda: use of a freed Buffer")
	}
}

// on checks that buf belongs to be and is live.
func (be *Backend) on(bufs ...*Buffer) {
	for _, b := range bufs {
		if b.be != be {
			panic("cuda: Buffer used with a Backend it was not allocated on")
		}
		b.live()
	}
}

// CopyFrom copies host into the first len(host) elements of buf.
func (buf *Buffer) CopyFrom(host []float32) error {
	buf.live()
	if len(host) > buf.n {
		panic(fmt.Sprintf("cuda: CopyFrom of %d elements into a Buffer of %d", len(host), buf.n))
	}
	if len(host) == 0 {
		return nil
	}
	return buf.be.do(func() error { return upload(buf.ptr, host, 1, len(host), len(host)) })
}

// Download copies the first len(host) elements of buf into host, after all
// earlier work of the Backend has finished.
func (buf *Buffer) Download(host []float32) error {
	buf.live()
	if len(host) > buf.n {
		panic(fmt.Sprintf("cuda: Download of %d elements from a Buffer of %d", len(host), buf.n))
	}
	if len(host) == 0 {
		return nil
	}
	return buf.be.do(func() error { return download(host, buf.ptr, 1, len(host), len(host)) })
}

// SgemmDevice computes C = alpha·op(A)·op(B) + beta·C on device Buffers,
// with the shapes and semantics of kernels.Backend.Sgemm (row-major; with
// beta == 0 C is not read). It queues the work and returns without waiting;
// Download or Synchronize waits.
func (be *Backend) SgemmDevice(transA, transB bool, m, n, k int, alpha float32, a *Buffer, lda int, b *Buffer, ldb int, beta float32, c *Buffer, ldc int) error {
	be.on(a, b, c)
	checkGemm(transA, transB, m, n, k, a.n, lda, b.n, ldb, c.n, ldc)
	return be.do(func() error {
		return be.gemmDev(transA, transB, m, n, k, alpha, a.ptr, lda, b.ptr, ldb, beta, c.ptr, ldc)
	})
}

// AxpyDevice computes y[i] += alpha·x[i] over x.Len() elements (an SGD
// step is AxpyDevice(-lr, grad, params)). It does not wait.
func (be *Backend) AxpyDevice(alpha float32, x, y *Buffer) error {
	be.on(x, y)
	if y.n < x.n {
		panic("cuda: AxpyDevice with y shorter than x")
	}
	if x.n == 0 {
		return nil
	}
	return be.do(func() error { return be.axpyDev(x.n, alpha, x.ptr, y.ptr) })
}

// DotDevice returns Σ x[i]·y[i] over x.Len() elements, accumulated in
// float64.
func (be *Backend) DotDevice(x, y *Buffer) (float64, error) {
	be.on(x, y)
	if y.n < x.n {
		panic("cuda: DotDevice with y shorter than x")
	}
	if x.n == 0 {
		return 0, nil
	}
	var s float64
	err := be.do(func() error {
		var err error
		s, err = be.dotDev(x.n, x.ptr, y.ptr)
		return err
	})
	return s, err
}

// RowSumSquaresDevice sets out[i] = scale·Σ_j a[i*lda+j]² for the m×n
// matrix in a (float64 accumulation); out is host memory of at least m.
func (be *Backend) RowSumSquaresDevice(m, n int, scale float64, a *Buffer, lda int, out []float64) error {
	be.on(a)
	checkRows("RowSumSquaresDevice", m, n, a.n, lda)
	if len(out) < m {
		panic("cuda: RowSumSquaresDevice output shorter than m")
	}
	if m == 0 {
		return nil
	}
	return be.do(func() error {
		dout, err := be.scratchPtr(slotOut, int64(m)*8)
		if err != nil {
			return err
		}
		if err := be.rowSumSqDev(m, n, scale, a.ptr, lda, dout); err != nil {
			return err
		}
		return downloadF64(out[:m], dout)
	})
}

// RowDotsDevice sets out[i] = Σ_j a[i*lda+j]·b[i*ldb+j] (float64
// accumulation); out is host memory of at least m.
func (be *Backend) RowDotsDevice(m, n int, a *Buffer, lda int, b *Buffer, ldb int, out []float64) error {
	be.on(a, b)
	checkRows("RowDotsDevice", m, n, a.n, lda)
	checkRows("RowDotsDevice", m, n, b.n, ldb)
	if len(out) < m {
		panic("cuda: RowDotsDevice output shorter than m")
	}
	if m == 0 {
		return nil
	}
	return be.do(func() error {
		dout, err := be.scratchPtr(slotOut, int64(m)*8)
		if err != nil {
			return err
		}
		if err := be.rowDotsDev(m, n, a.ptr, lda, b.ptr, ldb, dout); err != nil {
			return err
		}
		return downloadF64(out[:m], dout)
	})
}

// SignPackDevice packs the signs of the m×(k·l) projections in p into
// codes (host memory, at least m·l): bit j of codes[i*l+t] is set when
// p[i*ldp+t*k+j] > 0. Only the codes cross the bus.
func (be *Backend) SignPackDevice(m, k, l int, p *Buffer, ldp int, codes []uint32) error {
	be.on(p)
	checkSignPack(m, k, l, p.n, ldp, len(codes))
	if m == 0 || l == 0 {
		return nil
	}
	return be.do(func() error {
		dc, err := be.scratchPtr(slotOut, int64(m*l)*4)
		if err != nil {
			return err
		}
		if err := be.signPackDev(m, k, l, p.ptr, ldp, dc); err != nil {
			return err
		}
		return downloadU32(codes[:m*l], dc)
	})
}

func checkAct(act Activation) {
	if act != ReLU && act != Tanh {
		panic(fmt.Sprintf("cuda: unknown activation %d", int(act)))
	}
}

// ActivationForward sets h = σ(z) over z.Len() elements (h may be z). It
// does not wait.
func (be *Backend) ActivationForward(act Activation, z, h *Buffer) error {
	be.on(z, h)
	checkAct(act)
	if h.n < z.n {
		panic("cuda: ActivationForward output shorter than input")
	}
	n := z.n
	if n == 0 {
		return nil
	}
	return be.do(func() error {
		return be.launch(kActForward, blocks(n, block1D), 1, block1D, 1,
			argInt(int(act)), argInt(n), argPtr(z.ptr), argPtr(h.ptr))
	})
}

// ActivationBackward sets out = g·σ'(z) over z.Len() elements, z being the
// pre-activation (relu' = [z > 0], tanh' = 1 − tanh(z)²); out may be g. It
// does not wait.
func (be *Backend) ActivationBackward(act Activation, z, g, out *Buffer) error {
	be.on(z, g, out)
	checkAct(act)
	if g.n < z.n || out.n < z.n {
		panic("cuda: ActivationBackward gradient or output shorter than z")
	}
	n := z.n
	if n == 0 {
		return nil
	}
	return be.do(func() error {
		return be.launch(kActBackward, blocks(n, block1D), 1, block1D, 1,
			argInt(int(act)), argInt(n), argPtr(z.ptr), argPtr(g.ptr), argPtr(out.ptr))
	})
}

// BiasAdd adds bias[j] to a[i*lda+j] for the m×n matrix a. It does not
// wait.
func (be *Backend) BiasAdd(m, n int, bias, a *Buffer, lda int) error {
	be.on(bias, a)
	checkRows("BiasAdd", m, n, a.n, lda)
	if bias.n < n {
		panic("cuda: BiasAdd bias shorter than n")
	}
	if m == 0 || n == 0 {
		return nil
	}
	return be.do(func() error {
		return be.launch(kBiasAdd, blocks(n, 32), min(blocks(m, 8), maxGridY), 32, 8,
			argInt(m), argInt(n), argPtr(bias.ptr), argPtr(a.ptr), argInt(lda))
	})
}

// ColSums sets out[j] = Σ_i a[i*lda+j] for the m×n matrix a (float64
// accumulation, float32 result), e.g. a bias gradient. It does not wait.
func (be *Backend) ColSums(m, n int, a *Buffer, lda int, out *Buffer) error {
	be.on(a, out)
	checkRows("ColSums", m, n, a.n, lda)
	if out.n < n {
		panic("cuda: ColSums output shorter than n")
	}
	if n == 0 {
		return nil
	}
	return be.do(func() error { return be.colSumsDev(m, n, a.ptr, lda, out.ptr) })
}
