package asm

import (
	"os"
	"sync/atomic"
)

// NoAsmEnv names the environment variable that, set to "1", makes every
// kernel use its pure-Go twin.
const NoAsmEnv = "NTKLSH_NOASM"

var (
	// supported and supportedWhy are fixed at start-up by detect.
	supported, supportedWhy = detect()
	// useAsm is read by every kernel call.
	useAsm atomic.Bool
)

func init() {
	useAsm.Store(useAsmAtStart(supported, os.Getenv(NoAsmEnv)))
}

// useAsmAtStart decides the initial path from support and the value of
// NTKLSH_NOASM.
func useAsmAtStart(supported bool, noAsmEnv string) bool {
	return supported && noAsmEnv != "1"
}

// Supported reports whether the assembly kernels can run in this build on
// this machine, and why or why not.
func Supported() (bool, string) { return supported, supportedWhy }

// Enabled reports whether the kernels currently run the assembly (Supported,
// not disabled by NTKLSH_NOASM=1 or SetUseAsm(false)).
func Enabled() bool { return useAsm.Load() }

// SetUseAsm switches every kernel to the assembly (on) or to the pure-Go
// twins (off) and returns a function that restores the previous setting. It
// is meant for tests and benchmarks; calls that are running when it is called
// may use either path. Asking for the assembly where it is not Supported is a
// programmer error and panics.
func SetUseAsm(on bool) (restore func()) {
	if on && !supported {
		panic("asm: SetUseAsm(true) where the assembly is not supported: " + supportedWhy)
	}
	prev := useAsm.Swap(on)
	return func() { useAsm.Store(prev) }
}
