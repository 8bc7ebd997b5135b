//go:build !noasm && !purego && gc

package asm

import "github.com/klauspost/cpuid/v2"

// detect reports whether the CPU and OS support the AVX2+FMA kernels.
// cpuid sets AVX2 only after checking, through XGETBV, that the OS saves the
// XMM and YMM register state, so no separate OS check is needed here.
func detect() (bool, string) {
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		return true, "CPU has AVX2 and FMA3 with OS YMM support (" + cpuid.CPU.BrandName + ")"
	}
	return false, "CPU or OS lacks AVX2/FMA3 (" + cpuid.CPU.BrandName + ")"
}
