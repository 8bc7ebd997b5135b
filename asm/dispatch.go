package asm

import (
	"os"
	"sync/atomic"
)

// NoAsmEnv names the environment variable that, set to "1", makes every
// kernel use its pure-Go twin.
const NoAsmEnv = "NTKLSH_NOASM"

// ISA names a set of kernels: the pure-Go twins, the AVX2+FMA assembly or
// the AVX-512 assembly. Its methods run the public kernels on that set
// whatever the package-wide choice (Current) is; they panic when the set
// cannot run here (SupportedISA). Backends of package kernels pin an ISA this
// way.
type ISA int32

const (
	// Go is the pure-Go twins; always supported.
	Go ISA = iota
	// AVX2 is the AVX2+FMA assembly (6×16 GEMM tile).
	AVX2
	// AVX512 is the AVX-512 F/VL/BW/DQ assembly (6×32 GEMM tile, mask
	// registers for tails and sign packing).
	AVX512
	numISA
)

// String is "twin", "avx2" or "avx512".
func (l ISA) String() string {
	switch l {
	case Go:
		return "twin"
	case AVX2:
		return "avx2"
	case AVX512:
		return "avx512"
	}
	return "isa?"
}

var (
	// support and supportWhy are fixed at start-up by detect.
	support, supportWhy = detect()
	// preferred is the ISA the package starts on (before NTKLSH_NOASM):
	// the best supported one, except that AVX-512 is passed over where it
	// does not pay (see Preferred).
	preferred, preferredWhy = choose(support, avx512Pays)
	// current is read by every kernel call through the package-level
	// functions.
	current atomic.Int32
)

func init() {
	current.Store(int32(isaAtStart(preferred, os.Getenv(NoAsmEnv))))
}

// isaAtStart decides the initial path from the preferred ISA and the value
// of NTKLSH_NOASM.
func isaAtStart(preferred ISA, noAsmEnv string) ISA {
	if noAsmEnv == "1" {
		return Go
	}
	return preferred
}

// choose returns the best supported ISA, passing over AVX-512 when pays says
// it does not pay on this CPU, and why.
func choose(support [numISA]bool, pays func() (bool, string)) (ISA, string) {
	if support[AVX512] {
		ok, why := pays()
		if ok {
			return AVX512, why
		}
		if support[AVX2] {
			return AVX2, why
		}
	}
	if support[AVX2] {
		return AVX2, "AVX2+FMA; no AVX-512"
	}
	return Go, "no AVX2+FMA assembly here"
}

// useAsmAtStart decides whether the assembly starts enabled from support and
// the value of NTKLSH_NOASM.
func useAsmAtStart(supported bool, noAsmEnv string) bool {
	return supported && noAsmEnv != "1"
}

// Supported reports whether the AVX2 assembly kernels can run in this build
// on this machine, and why or why not.
func Supported() (bool, string) { return support[AVX2], supportWhy[AVX2] }

// SupportedISA reports whether the kernels of l can run in this build on
// this machine, and why or why not.
func SupportedISA(l ISA) (bool, string) {
	if l < 0 || l >= numISA {
		return false, "unknown ISA"
	}
	return support[l], supportWhy[l]
}

// Preferred returns the ISA the package starts on when NTKLSH_NOASM is not
// set, and why: AVX-512 where it is supported and pays (see avx512Pays),
// else AVX2 where supported, else Go.
func Preferred() (ISA, string) { return preferred, preferredWhy }

// Current returns the ISA the package-level kernels run now.
func Current() ISA { return ISA(current.Load()) }

// Enabled reports whether the package-level kernels currently run assembly
// (an ISA was supported, not disabled by NTKLSH_NOASM=1 or SetUseAsm(false)).
func Enabled() bool { return Current() != Go }

// SetUseAsm switches every package-level kernel to the preferred assembly
// (on; AVX2 when AVX-512 is supported but not preferred) or to the pure-Go
// twins (off) and returns a function that restores the previous setting. It
// is meant for tests and benchmarks; calls that are running when it is
// called may use either path. Asking for the assembly where it is not
// Supported is a programmer error and panics.
func SetUseAsm(on bool) (restore func()) {
	if !on {
		return SetISA(Go)
	}
	if !support[AVX2] {
		panic("asm: SetUseAsm(true) where the assembly is not supported: " + supportWhy[AVX2])
	}
	return SetISA(max(preferred, AVX2))
}

// SetISA switches every package-level kernel to l and returns a function
// that restores the previous setting; for tests and benchmarks. An ISA that
// is not supported here panics.
func SetISA(l ISA) (restore func()) {
	if ok, why := SupportedISA(l); !ok {
		panic("asm: SetISA(" + l.String() + ") where it is not supported: " + why)
	}
	prev := current.Swap(int32(l))
	return func() { current.Store(prev) }
}

// check panics when l cannot run here (an ISA method called on a machine
// without it).
func (l ISA) check() {
	if l < 0 || l >= numISA || !support[l] {
		panic("asm: kernels of " + l.String() + " called where they are not supported")
	}
}
