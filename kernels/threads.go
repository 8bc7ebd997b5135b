package kernels

// ThreadLimiter is implemented by backends whose Sgemm can be told to use
// at most maxThreads goroutines in one call (avx2 and avx512 do).
type ThreadLimiter interface {
	SgemmThreads(maxThreads int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// WithMaxThreads returns be with every Sgemm call limited to n goroutines
// (n ≤ 0, or a backend that is not a ThreadLimiter: be itself). Results are
// those of be: the limit only changes how a product is split. It lets two
// parts of a program that run at once (the engine's SGD steps and its
// background rehash) share the cores without oversubscribing them.
func WithMaxThreads(be Backend, n int) Backend {
	tl, ok := be.(ThreadLimiter)
	if n <= 0 || !ok {
		return be
	}
	// capped is no ThreadLimiter, so be is never one here.
	c := capped{Backend: be, tl: tl, n: n}
	_, norms := be.(ReLUNorms)
	_, dense := be.(threadDenseReLU)
	_, packs := be.(threadPacked)
	switch {
	case norms && dense && packs:
		return cappedPacked{cappedFused{cappedNorms{c}}}
	case norms && dense:
		return cappedFused{cappedNorms{c}}
	case norms:
		return cappedNorms{c}
	}
	return c
}

type capped struct {
	Backend
	tl ThreadLimiter
	n  int
}

func (c capped) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c2 []float32, ldc int) {
	c.tl.SgemmThreads(c.n, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c2, ldc)
}

// ReLU and ReLUMask forward to be's vector kernels (Generic's when it has
// none), so that wrapping changes nothing but the GEMM split.
func (c capped) ReLU(x, y []float32) { reluOf(c.Backend).ReLU(x, y) }

func (c capped) ReLUMask(h, g []float32) { reluOf(c.Backend).ReLUMask(h, g) }

// cappedNorms is capped over a backend with the fused ReLU norms, which it
// keeps (a capped backend without them takes the unfused path, as its inner
// one would).
type cappedNorms struct{ capped }

func (c cappedNorms) MaskedRowNorms(m, n int, h []float32, ldh int, w []float32, out []float64) {
	c.Backend.(ReLUNorms).MaskedRowNorms(m, n, h, ldh, w, out)
}

// threadDenseReLU is a DenseReLU whose product can be limited to
// maxThreads goroutines (avx2 and avx512).
type threadDenseReLU interface {
	DenseReLU
	linearReLUThreads(maxThreads, m, n, k int, x []float32, ldx int, w []float32, ldw int, bias, z []float32, ldz int, h []float32, ldh int)
}

// cappedFused is cappedNorms over a backend with the dense ReLU layer too
// (avx2, avx512), whose products it limits to the cap.
type cappedFused struct{ cappedNorms }

func (c cappedFused) LinearReLU(m, n, k int, x []float32, ldx int, w []float32, ldw int, bias, z []float32, ldz int, h []float32, ldh int) {
	c.Backend.(threadDenseReLU).linearReLUThreads(c.n, m, n, k, x, ldx, w, ldw, bias, z, ldz, h, ldh)
}

func reluOf(be Backend) ReLUKernels {
	if k, ok := be.(ReLUKernels); ok {
		return k
	}
	return Generic.(ReLUKernels)
}
