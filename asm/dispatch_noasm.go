//go:build !amd64 || noasm || purego || !gc

package asm

import "runtime"

// detect says why this build has no assembly: the build tag that left it
// out (noasm, or purego as in x/crypto and blake3), else the architecture or
// the compiler.
func detect() (bool, string) {
	switch {
	case offTag != "":
		return false, "built without assembly (" + offTag + " build tag)"
	case runtime.GOARCH != "amd64":
		return false, "built without assembly (GOARCH=" + runtime.GOARCH + ", not amd64)"
	default:
		return false, "built without assembly (compiler " + runtime.Compiler + ", not gc)"
	}
}
