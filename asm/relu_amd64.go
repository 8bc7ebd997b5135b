//go:build !noasm && !purego && gc

package asm

// reluAVX2 sets y[i] = max(x[i], 0) with Go's max semantics (NaN stays NaN,
// −0 becomes +0) over len(x) elements (len(y) == len(x)). The reference is
// the pure-Go twin, ReLUGeneric.
//
//go:noescape
func reluAVX2(x, y []float32)

// reluMaskAVX2 zeroes g[i] where h[i] == 0 (either sign) and leaves it
// elsewhere, NaN h included, over len(h) elements (len(g) == len(h)). The
// reference is the pure-Go twin, ReLUMaskGeneric.
//
//go:noescape
func reluMaskAVX2(h, g []float32)

func relu(x, y []float32) {
	if useAsm.Load() {
		raceRead32(x)
		raceWrite32(y)
		reluAVX2(x, y)
		return
	}
	ReLUGeneric(x, y)
}

func reluMask(h, g []float32) {
	if useAsm.Load() {
		raceRead32(h)
		raceRead32(g)
		raceWrite32(g)
		reluMaskAVX2(h, g)
		return
	}
	ReLUMaskGeneric(h, g)
}
