package kernels

// PackedB is the B operand of products packed once by a backend's
// PackedProducts.PackB; opaque, it belongs to the backend that packed it.
type PackedB interface {
	// Dims returns op(B)'s shape, k × n.
	Dims() (k, n int)
	// Floats is the number of float32 elements the packing added to the
	// operand (0 when the backend packs nothing for this shape).
	Floats() int
}

// PackedProducts is implemented by backends that can pack the B operand of
// products that share it once and reuse the packing (avx2 and avx512, by
// asm.PackedB). The rehash multiplies every batch of the training set by
// the same weights: packing them once per rehash instead of once per batch
// made the AVX-512 level's 256 × 1024 × 1024 product 5.7 % faster and the
// 128 × 1024 × 1024 one 17 % (asm.PackedB). Results are bit for bit the
// unpacked calls'. The operand b must stay unchanged while its PackedB is
// in use.
type PackedProducts interface {
	// PackB packs op(B) (k × n; b with leading dimension ldb, transposed
	// when transB) into p, reusing its memory when it is one of this
	// backend's and large enough (p nil: new), and returns it.
	PackB(p PackedB, transB bool, k, n int, b []float32, ldb int) PackedB
	// SgemmPacked is Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb,
	// beta, c, ldc) for p's operand, bit for bit.
	SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p PackedB, beta float32, c []float32, ldc int)
	// LinearReLUPacked is DenseReLU's LinearReLU(m, n, k, x, ldx, w, ldw,
	// bias, z, ldz, h, ldh) for weights w (n × k) packed with transB.
	LinearReLUPacked(m int, x []float32, ldx int, p PackedB, bias, z []float32, ldz int, h []float32, ldh int)
}

// threadPacked is PackedProducts whose products can be limited to
// maxThreads goroutines (avx2 and avx512), for WithMaxThreads.
type threadPacked interface {
	PackedProducts
	sgemmPackedThreads(maxThreads int, transA bool, m int, alpha float32, a []float32, lda int, p PackedB, beta float32, c []float32, ldc int)
	linearReLUPackedThreads(maxThreads, m int, x []float32, ldx int, p PackedB, bias, z []float32, ldz int, h []float32, ldh int)
}

// cappedPacked is cappedFused over a backend with PackedProducts too, whose
// products it limits to the cap.
type cappedPacked struct{ cappedFused }

func (c cappedPacked) PackB(p PackedB, transB bool, k, n int, b []float32, ldb int) PackedB {
	return c.Backend.(threadPacked).PackB(p, transB, k, n, b, ldb)
}

func (c cappedPacked) SgemmPacked(transA bool, m int, alpha float32, a []float32, lda int, p PackedB, beta float32, cm []float32, ldc int) {
	c.Backend.(threadPacked).sgemmPackedThreads(c.n, transA, m, alpha, a, lda, p, beta, cm, ldc)
}

func (c cappedPacked) LinearReLUPacked(m int, x []float32, ldx int, p PackedB, bias, z []float32, ldz int, h []float32, ldh int) {
	c.Backend.(threadPacked).linearReLUPackedThreads(c.n, m, x, ldx, p, bias, z, ldz, h, ldh)
}
