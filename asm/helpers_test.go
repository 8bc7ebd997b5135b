package asm

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// u32 is the unit roundoff of float32 (2⁻²⁴) and u64 that of float64.
const (
	u32 = 1.0 / (1 << 24)
	u64 = 1.0 / (1 << 53)
)

// guard is the number of NaN floats placed before and after every output
// buffer; they must survive every kernel call untouched.
const guard = 9

// paths returns the code paths this machine can test: the Go twins always,
// each assembly ISA (AVX2, AVX-512) when supported.
func paths(t testing.TB) []ISA {
	out := []ISA{Go}
	for l := AVX2; l < numISA; l++ {
		if ok, why := SupportedISA(l); ok {
			out = append(out, l)
		} else {
			t.Logf("%s not tested here: %s", l, why)
		}
	}
	return out
}

// onPath runs f with the package-level kernels switched to l.
func onPath(l ISA, f func()) {
	restore := SetISA(l)
	defer restore()
	f()
}

func pathName(l ISA) string { return l.String() }

// randVec returns n random floats in [-1, 1) starting at element off of a
// fresh buffer, so that the slice start is misaligned by off floats.
func randVec(rng *rand.Rand, n, off int) []float32 {
	buf := make([]float32, n+off)
	for i := range buf {
		buf[i] = float32(rng.Float64()*2 - 1)
	}
	return buf[off : off+n : off+n]
}

// randMat returns rows×cols random floats with leading dimension ld and the
// gaps between rows (and past the last row) filled with NaN, which a kernel
// must never read.
func randMat(rng *rand.Rand, rows, cols, ld, off int) []float32 {
	n := 0
	if rows > 0 {
		n = (rows-1)*ld + cols
	}
	buf := make([]float32, n+off)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	m := buf[off : off+n : off+n]
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			m[i*ld+j] = float32(rng.Float64()*2 - 1)
		}
	}
	return m
}

// guarded32 returns a slice of n elements surrounded by guard NaN floats;
// checkGuard32 later verifies the guards.
func guarded32(n, off int) (buf, s []float32) {
	buf = make([]float32, off+guard+n+guard)
	for i := range buf {
		buf[i] = float32(math.NaN())
	}
	return buf, buf[off+guard : off+guard+n : off+guard+n]
}

func checkGuard32(t testing.TB, buf []float32, off, n int) {
	t.Helper()
	for i, v := range buf {
		inside := i >= off+guard && i < off+guard+n
		if !inside && math.Float32bits(v) != math.Float32bits(float32(math.NaN())) {
			t.Fatalf("guard element %d (outside [%d,%d)) overwritten with %v", i, off+guard, off+guard+n, v)
		}
	}
}

func guarded64(n int) (buf, s []float64) {
	buf = make([]float64, guard+n+guard)
	for i := range buf {
		buf[i] = math.NaN()
	}
	return buf, buf[guard : guard+n : guard+n]
}

func checkGuard64(t testing.TB, buf []float64, n int) {
	t.Helper()
	for i, v := range buf {
		if (i < guard || i >= guard+n) && !math.IsNaN(v) {
			t.Fatalf("guard element %d overwritten with %v", i, v)
		}
	}
}

// mustPanic checks that f panics with a message starting "asm: ".
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		if r == nil {
			t.Fatalf("%s: no panic", name)
		}
		if s, ok := r.(string); !ok || !strings.HasPrefix(s, "asm: ") {
			t.Fatalf("%s: panic %v does not start with \"asm: \"", name, r)
		}
	}()
	f()
}
