//go:build cblas && cgo && linux

package main

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>

enum { RowMajor = 101, NoTrans = 111, Trans = 112 };

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int,
                         const float *, int, float, float *, int);
typedef char *(*name_fn)(void);
typedef int (*count_fn)(void);

static sgemm_fn sgemm;
static name_fn corename, config;
static count_fn nthreads;

// peer_open loads the library and the symbols it needs; it returns dlerror's
// text, or NULL.
static const char *peer_open(const char *lib) {
	void *h = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
	if (!h) return dlerror();
	sgemm = (sgemm_fn)dlsym(h, "cblas_sgemm");
	if (!sgemm) return dlerror();
	corename = (name_fn)dlsym(h, "openblas_get_corename");
	config = (name_fn)dlsym(h, "openblas_get_config");
	nthreads = (count_fn)dlsym(h, "openblas_get_num_threads");
	void (*threads)(int) = (void (*)(int))dlsym(h, "openblas_set_num_threads");
	if (threads) threads(1);
	return NULL;
}

// peer_threads is the thread count OpenBLAS will use (-1: unknown).
static int peer_threads(void) { return nthreads ? nthreads() : -1; }

static const char *peer_core(void) { return corename ? corename() : "unknown"; }
static const char *peer_config(void) { return config ? config() : "unknown"; }

static void peer_sgemm(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                       const float *b, int ldb, float beta, float *c, int ldc) {
	sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

// peer_signpack is SignPack's reference loop in C: bit j of codes[i*l+t]
// is set when p[i*ldp+t*k+j] > 0.
static void peer_signpack(int m, int k, int l, const float *p, int ldp, uint32_t *codes) {
	for (int i = 0; i < m; i++) {
		const float *row = p + (size_t)i * ldp;
		for (int t = 0; t < l; t++) {
			uint32_t code = 0;
			for (int j = 0; j < k; j++) code |= (uint32_t)(row[t * k + j] > 0) << j;
			codes[(size_t)i * l + t] = code;
		}
	}
}
*/
import "C"

import (
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"
	"unsafe"

	"github.com/ntklsh/ntklsh/asm"
)

// gemmCase is one product C = op(A)·op(B), m × n × k, row-major.
type gemmCase struct {
	name, group    string
	tA, tB         bool
	m, n, k        int
	srp            bool // dense SRP: the product, then the sign bits of 32-column groups
	prepacked      bool // the Go side reads B packed once before the pairs (asm.PackB), as the rehash does
	pairsPerFactor int  // pairs, as a multiple of -pairs (the cheap shapes get more)
}

var cases = []gemmCase{
	{name: "Sgemm NN 1024^3", group: "1024", m: 1024, n: 1024, k: 1024, pairsPerFactor: 1},
	{name: "Sgemm NT 1024^3", group: "1024", tB: true, m: 1024, n: 1024, k: 1024, pairsPerFactor: 1},
	{name: "Sgemm TN 1024^3", group: "1024", tA: true, m: 1024, n: 1024, k: 1024, pairsPerFactor: 1},
	{name: "train fwd NT 32x1024x1024", group: "engine", tB: true, m: 32, n: 1024, k: 1024, pairsPerFactor: 4},
	{name: "train dX NN 32x1024x1024", group: "engine", m: 32, n: 1024, k: 1024, pairsPerFactor: 4},
	{name: "train dW TN 1024x1024x32", group: "engine", tA: true, m: 1024, n: 1024, k: 32, pairsPerFactor: 4},
	{name: "rehash fwd NT 256x1024x1024", group: "engine", tB: true, m: 256, n: 1024, k: 1024, pairsPerFactor: 2},
	{name: "rehash proj NT 256x128x1024", group: "engine", tB: true, m: 256, n: 128, k: 1024, pairsPerFactor: 4},
	{name: "rehash vh NT 128x1024x1024", group: "engine", tB: true, m: 128, n: 1024, k: 1024, pairsPerFactor: 2},
	// The rehash multiplies every batch by the same weights: the engine packs
	// them once per rehash (asm.PackB) and each batch's product reads the
	// panels; OpenBLAS's cblas_sgemm packs them in every call.
	{name: "rehash fwd NT, B packed once", group: "engine", tB: true, m: 256, n: 1024, k: 1024, prepacked: true, pairsPerFactor: 2},
	{name: "rehash bwd NN, B packed once", group: "engine", m: 256, n: 1024, k: 1024, prepacked: true, pairsPerFactor: 2},
	{name: "rehash proj NT, B packed once", group: "engine", tB: true, m: 256, n: 128, k: 1024, prepacked: true, pairsPerFactor: 4},
	{name: "rehash vh NT, B packed once", group: "engine", tB: true, m: 128, n: 1024, k: 1024, prepacked: true, pairsPerFactor: 2},
	{name: "SRP 4096x16384x128+pack", group: "srp", tB: true, m: 4096, n: 128, k: 16384, srp: true, pairsPerFactor: 1},
}

func main() {
	lib := flag.String("lib", "libopenblas.so.0", "the OpenBLAS shared library to dlopen")
	pairs := flag.Int("pairs", 20, "pairs of calls per case (the engine's small shapes run 2–4× as many)")
	which := flag.String("cases", "1024,engine,srp", "comma-separated groups of cases: 1024, engine, srp")
	raw := flag.String("raw", "", "also write every pair's two times (seconds) to this file")
	level := flag.String("isa", os.Getenv("NTKLSH_KERNELS"), "the Go side's kernel level: avx512, avx2 or twin (asm's pure-Go GEMM; generic is taken as twin, though the engine's generic backend multiplies with gonum); empty: the one asm picked")
	flag.Parse()
	isa := asm.Current()
	if *level != "" {
		found := false
		for _, l := range []asm.ISA{asm.Go, asm.AVX2, asm.AVX512} {
			if l.String() == *level || (*level == "generic" && l == asm.Go) {
				if ok, why := asm.SupportedISA(l); !ok {
					fmt.Fprintf(os.Stderr, "cblaspeer: -isa %s cannot run here: %s\n", *level, why)
					os.Exit(2)
				}
				isa, found = l, true
			}
		}
		if !found {
			fmt.Fprintf(os.Stderr, "cblaspeer: -isa: unknown level %q (want avx512, avx2 or twin)\n", *level)
			os.Exit(2)
		}
	}
	if *pairs < 3 || *pairs > 10000 {
		fmt.Fprintf(os.Stderr, "cblaspeer: -pairs %d outside [3, 10000]\n", *pairs)
		os.Exit(2)
	}
	groups := map[string]bool{}
	for _, g := range strings.Split(*which, ",") {
		switch g {
		case "1024", "engine", "srp":
			groups[g] = true
		default:
			fmt.Fprintf(os.Stderr, "cblaspeer: -cases: unknown group %q (want 1024, engine or srp)\n", g)
			os.Exit(2)
		}
	}
	clib := C.CString(*lib)
	defer C.free(unsafe.Pointer(clib))
	if msg := C.peer_open(clib); msg != nil {
		fmt.Fprintf(os.Stderr, "cblaspeer: -lib %s: %s\n", *lib, C.GoString(msg))
		os.Exit(1)
	}
	var rawOut *os.File
	if *raw != "" {
		f, err := os.Create(*raw)
		if err != nil {
			fmt.Fprintln(os.Stderr, "cblaspeer: -raw:", err)
			os.Exit(1)
		}
		defer f.Close()
		rawOut = f
		fmt.Fprintln(rawOut, "case\tpair\tgo_first\tgo_s\topenblas_s")
	}
	// One OS thread for both sides, so that neither pays a migration the
	// other does not.
	runtime.LockOSThread()
	fmt.Printf("Go %s, asm level %s (NTKLSH_KERNELS=%q); OpenBLAS %s, core %s (OPENBLAS_CORETYPE=%q), %d thread(s)\n",
		runtime.Version(), isa, os.Getenv("NTKLSH_KERNELS"), C.GoString(C.peer_config()), C.GoString(C.peer_core()),
		os.Getenv("OPENBLAS_CORETYPE"), int(C.peer_threads()))
	fmt.Printf("%-28s %6s  %-22s %6s  %10s %10s  %10s %10s\n", "case", "pairs", "OpenBLAS/Go [90% CI]", "Go won",
		"Go best", "Go med", "BLAS best", "BLAS med")
	for _, c := range cases {
		if !groups[c.group] {
			continue
		}
		goT, peerT := c.run(isa, *pairs*c.pairsPerFactor, rawOut)
		s := summarize(goT, peerT, 4000, 1)
		ms := func(x float64) string { return fmt.Sprintf("%.3f ms", 1e3*x) }
		fmt.Printf("%-28s %6d  %.2f [%.2f, %.2f]      %3d/%-3d %10s %10s  %10s %10s\n", c.name, s.Pairs, s.Ratio, s.Lo, s.Hi,
			s.GoWins, s.Pairs, ms(s.GoBest), ms(s.GoMed), ms(s.PeerBest), ms(s.PeerMed))
	}
}

// run times pairs pairs of calls, after one warm-up call on each side and a
// check that both sides compute the same product.
func (c gemmCase) run(isa asm.ISA, pairs int, rawOut *os.File) (goT, peerT []float64) {
	rng := rand.New(rand.NewPCG(uint64(c.m*c.n), uint64(c.k)))
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(rng.Float64()*2 - 1)
		}
		return x
	}
	a, b := fill(c.m*c.k), fill(c.k*c.n)
	lda, ldb := c.k, c.n
	if c.tA {
		lda = c.m
	}
	if c.tB {
		ldb = c.k
	}
	cGo, cPeer := make([]float32, c.m*c.n), make([]float32, c.m*c.n)
	codesGo, codesPeer := make([]uint32, c.m*c.n/32), make([]uint32, c.m*c.n/32)
	var packed *asm.PackedB
	if c.prepacked {
		t0 := time.Now()
		packed = isa.PackB(nil, c.tB, c.k, c.n, b, ldb)
		fmt.Printf("  (%s: asm.PackB once, %.3f ms, cold)\n", c.name, 1e3*time.Since(t0).Seconds())
	}
	goCall := func() {
		if packed != nil {
			isa.SgemmPacked(1, c.tA, c.m, 1, a, lda, packed, 0, cGo, c.n)
			return
		}
		isa.SgemmThreads(1, c.tA, c.tB, c.m, c.n, c.k, 1, a, lda, b, ldb, 0, cGo, c.n)
		if c.srp {
			isa.SignPack(c.m, 32, c.n/32, cGo, c.n, codesGo)
		}
	}
	peerCall := func() {
		C.peer_sgemm(cbool(c.tA), cbool(c.tB), C.int(c.m), C.int(c.n), C.int(c.k), 1,
			(*C.float)(&a[0]), C.int(lda), (*C.float)(&b[0]), C.int(ldb), 0, (*C.float)(&cPeer[0]), C.int(c.n))
		if c.srp {
			C.peer_signpack(C.int(c.m), 32, C.int(c.n/32), (*C.float)(&cPeer[0]), C.int(c.n), (*C.uint32_t)(&codesPeer[0]))
		}
	}
	goCall()
	peerCall()
	var maxDiff, maxAbs float64
	for i := range cGo {
		maxDiff = math.Max(maxDiff, math.Abs(float64(cGo[i]-cPeer[i])))
		maxAbs = math.Max(maxAbs, math.Abs(float64(cPeer[i])))
	}
	if maxDiff > 1e-4*maxAbs {
		fmt.Fprintf(os.Stderr, "cblaspeer: %s: the two products differ by %g (largest element %g)\n", c.name, maxDiff, maxAbs)
		os.Exit(1)
	}
	if c.srp {
		// A projection within rounding of zero may take either sign on
		// the two sides: count the bits that differ away from zero.
		bad := 0
		for i := range cGo {
			if (cGo[i] > 0) != (cPeer[i] > 0) && math.Abs(float64(cPeer[i])) > 1e-3*maxAbs {
				bad++
			}
		}
		if bad > 0 {
			fmt.Fprintf(os.Stderr, "cblaspeer: %s: %d sign bits differ away from zero\n", c.name, bad)
			os.Exit(1)
		}
		if !sameCodes(cGo, codesGo, c.n) || !sameCodes(cPeer, codesPeer, c.n) {
			fmt.Fprintf(os.Stderr, "cblaspeer: %s: a side's codes are not the signs of its own products\n", c.name)
			os.Exit(1)
		}
	}
	timed := func(f func()) float64 {
		t0 := time.Now()
		f()
		return time.Since(t0).Seconds()
	}
	goT, peerT = make([]float64, pairs), make([]float64, pairs)
	for p := range pairs {
		goFirst := p%2 == 0
		if goFirst {
			goT[p] = timed(goCall)
			peerT[p] = timed(peerCall)
		} else {
			peerT[p] = timed(peerCall)
			goT[p] = timed(goCall)
		}
		if rawOut != nil {
			fmt.Fprintf(rawOut, "%s\t%d\t%v\t%.9f\t%.9f\n", c.name, p, goFirst, goT[p], peerT[p])
		}
	}
	return goT, peerT
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
