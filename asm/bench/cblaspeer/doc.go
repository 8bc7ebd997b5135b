// Command cblaspeer compares the engine's single-thread SGEMM (package asm)
// with OpenBLAS's cblas_sgemm in one process, call by call: each pair of
// calls runs the same product once on each side, back to back, in an order
// that alternates from pair to pair, and the pair's ratio (OpenBLAS time ÷
// Go time, above 1 when Go is faster) is what it reports — the median over
// the pairs with a bootstrap 90 % interval and the share of pairs Go won.
// On a virtual machine whose speed drifts by tens of percent within a
// minute, a ratio taken within a pair is far steadier than the ratio of two
// processes' medians (asm/bench/peer_numpy.py), which it complements.
//
// OpenBLAS is loaded with dlopen (libopenblas.so.0, or the library named
// by -lib), so only the C library's headers are needed to build:
//
//	go run -tags cblas ./asm/bench/cblaspeer                # every case
//	go run -tags cblas ./asm/bench/cblaspeer -cases 1024 -pairs 30
//
// It sets OpenBLAS to one thread (openblas_set_num_threads, whatever the
// environment says) and prints the thread count in effect and the core
// OpenBLAS picked (OPENBLAS_CORETYPE, when set, chooses it: on
// cpuid family 6 model 0xCF OpenBLAS 0.3.21 falls back to its SSE3 core
// unless told SkylakeX). The Go side runs at the level asm picked, or the
// one -isa (default: NTKLSH_KERNELS) names. Cases: the 1024³ products NN, NT and TN, the
// engine's own shapes (asm's BenchmarkSgemmEngine: a training step at batch
// 32 and the rehash at batch 256, width 1024), and dense SRP hashing
// (N = 4096, P = 16384, 128 bits: the product and the sign packing; the
// OpenBLAS side packs signs with a plain C loop).
//
// Without the cblas tag (and cgo on linux) it only says how to build it.
package main
