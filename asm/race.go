//go:build race

package asm

import (
	"runtime"
	"unsafe"
)

// raceEnabled reports a -race build (sync.Pool then drops items at random,
// so allocation counts are not meaningful).
const raceEnabled = true

// raceRead32 tells the race detector that assembly reads s.
func raceRead32(s []float32) {
	if len(s) > 0 {
		runtime.RaceReadRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

// raceWrite32 tells the race detector that assembly writes s.
func raceWrite32(s []float32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

// raceWrite64 tells the race detector that assembly writes s.
func raceWrite64(s []float64) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*8)
	}
}

// raceWriteU32 tells the race detector that assembly writes s.
func raceWriteU32(s []uint32) {
	if len(s) > 0 {
		runtime.RaceWriteRange(unsafe.Pointer(&s[0]), len(s)*4)
	}
}

// raceReadRows32 reports reads of the first n elements of m rows of a with
// leading dimension ld.
func raceReadRows32(m, n int, a []float32, ld int) {
	for i := 0; i < m && n > 0; i++ {
		raceRead32(a[i*ld : i*ld+n])
	}
}

// raceWriteRows32 reports writes of the first n elements of m rows of a
// with leading dimension ld.
func raceWriteRows32(m, n int, a []float32, ld int) {
	for i := 0; i < m && n > 0; i++ {
		raceWrite32(a[i*ld : i*ld+n])
	}
}
