//go:build !amd64 || noasm || !gc

package asm

func detect() (bool, string) {
	return false, "built without assembly (not amd64, noasm tag, or not gc)"
}
