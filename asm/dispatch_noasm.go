//go:build !amd64 || noasm || purego || !gc

package asm

import "runtime"

// detect says why this build has no assembly: the build tag that left it
// out (noasm, or purego as in x/crypto and blake3), else the architecture or
// the compiler.
func detect() (s [numISA]bool, why [numISA]string) {
	var w string
	switch {
	case offTag != "":
		w = "built without assembly (" + offTag + " build tag)"
	case runtime.GOARCH != "amd64":
		w = "built without assembly (GOARCH=" + runtime.GOARCH + ", not amd64)"
	default:
		w = "built without assembly (compiler " + runtime.Compiler + ", not gc)"
	}
	s[Go], why[Go] = true, "pure Go"
	why[AVX2], why[AVX512] = w, w
	return s, why
}

func avx512Pays() (bool, string) { return false, "built without assembly" }
