//go:build !noasm && !purego && gc

package asm

import "github.com/klauspost/cpuid/v2"

// detect reports which kernel sets the CPU and OS support. cpuid sets AVX2
// only after checking, through XGETBV, that the OS saves the XMM and YMM
// register state, and the AVX-512 flags only when XCR0 bits 5..7 (opmask,
// upper halves of ZMM0..15, ZMM16..31) are set too, so no separate OS check
// is needed here.
func detect() (s [numISA]bool, why [numISA]string) {
	s[Go], why[Go] = true, "pure Go"
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		s[AVX2], why[AVX2] = true, "CPU has AVX2 and FMA3 with OS YMM support ("+cpuid.CPU.BrandName+")"
	} else {
		why[AVX2] = "CPU or OS lacks AVX2/FMA3 (" + cpuid.CPU.BrandName + ")"
	}
	if s[AVX2] && cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512VL, cpuid.AVX512BW, cpuid.AVX512DQ, cpuid.BMI2) {
		s[AVX512], why[AVX512] = true, "CPU has AVX-512 F/VL/BW/DQ with OS ZMM and opmask support, and BMI2 ("+cpuid.CPU.BrandName+")"
	} else {
		why[AVX512] = "CPU or OS lacks AVX-512 F/VL/BW/DQ (" + cpuid.CPU.BrandName + ")"
	}
	return s, why
}

// avx512Pays is the rule for automatic selection of AVX-512 over AVX2 on a
// CPU that supports both. The 6×32 kernels pay where the core executes
// 512-bit FMAs at full width without a frequency penalty worth the width:
// Intel cores from Ice Lake on (server: Ice Lake-SP, Sapphire/Emerald
// Rapids, Granite Rapids; client: Ice/Tiger/Rocket Lake). Skylake-SP,
// Cascade Lake and Cooper Lake (family 6 model 0x55) drop to the AVX-512
// frequency licence under heavy 512-bit FMA load, and AMD Zen 4 (family
// 0x19) splits each 512-bit operation into two 256-bit halves; there, and on
// every CPU not listed, AVX2 is chosen automatically and AVX-512 only when
// forced (NTKLSH_KERNELS=avx512, SetISA). Measured on Emerald Rapids (model
// 0xCF) only; see PERF.md.
func avx512Pays() (bool, string) {
	c := cpuid.CPU
	if c.VendorID == cpuid.Intel && c.Family == 6 {
		switch c.Model {
		case 0x6A, 0x6C, // Ice Lake-SP/-D
			0x8F, 0xCF, // Sapphire Rapids, Emerald Rapids
			0xAD, 0xAE, // Granite Rapids
			0x7D, 0x7E, // Ice Lake client
			0x8C, 0x8D, // Tiger Lake
			0xA7: // Rocket Lake
			return true, "AVX-512 without a frequency licence penalty (Intel family 6 model " + hex(c.Model) + ")"
		case 0x55:
			return false, "AVX-512 passed over: Skylake-SP/Cascade/Cooper Lake down-clock under 512-bit FMA load (model 0x55); force with NTKLSH_KERNELS=avx512"
		}
	}
	if c.VendorID == cpuid.AMD && c.Family == 0x19 {
		return false, "AVX-512 passed over: AMD Zen 4 executes 512-bit operations as two 256-bit halves; force with NTKLSH_KERNELS=avx512"
	}
	return false, "AVX-512 passed over: not measured on this CPU (vendor " + c.VendorString + ", family " + hex(c.Family) + ", model " + hex(c.Model) + "); force with NTKLSH_KERNELS=avx512"
}

func hex(v int) string {
	const digits = "0123456789abcdef"
	if v == 0 {
		return "0x0"
	}
	var b []byte
	for ; v > 0; v >>= 4 {
		b = append([]byte{digits[v&15]}, b...)
	}
	return "0x" + string(b)
}
