//go:build !noasm && !purego && gc

package asm

// signPackAVX2 packs signs into k-bit codes (m ≥ 1, 1 ≤ k ≤ 32, l ≥ 1,
// shapes checked by the caller). Eight projections at a time are compared
// with zero (vcmpps, ordered "0 < p", so NaN gives 0), their sign mask
// (vmovmskps) is appended to a 64-bit bit queue, and every k queued bits
// leave as one code; the tail of a row is read with a masked load. The
// reference is the pure-Go twin, SignPackGeneric.
//
//go:noescape
func signPackAVX2(m, k, l int, p []float32, ldp int, codes []uint32)

// signPackAVX512 makes each code directly: the k projections of a code
// (k ≤ 16: one zmm, else two) are compared with zero under a mask of k
// lanes (vcmpps into a k register, ordered "0 < p", masked-out lanes
// neither read nor set) and the mask register is the code (kmovw). Generated
// by _gen (elementwise.go); twin SignPackGeneric.
//
//go:noescape
func signPackAVX512(m, k, l int, p []float32, ldp int, codes []uint32)

func signPack(isa ISA, m, k, l int, p []float32, ldp int, codes []uint32) {
	if isa == Go {
		SignPackGeneric(m, k, l, p, ldp, codes)
		return
	}
	raceReadRows32(m, k*l, p, ldp)
	raceWriteU32(codes[:m*l])
	if isa == AVX512 {
		signPackAVX512(m, k, l, p, ldp, codes)
		return
	}
	signPackAVX2(m, k, l, p, ldp, codes)
}
