#!/usr/bin/env python3
"""Peer timings for asm/PERF.md: numpy (OpenBLAS) single-thread.

Run as:
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 asm/bench/peer_numpy.py

or, for rounds interleaved with the Go benchmarks, only the 1024^3 GEMMs
with R repetitions each (the core OpenBLAS picked on the first line):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 asm/bench/peer_numpy.py sgemm R

or only the engine's shapes and the dense SRP hashing (asm/bench/nopack-quiet.sh):
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 asm/bench/peer_numpy.py engine

Prints the BLAS numpy is linked with, then, for each case, the best and
median of several repetitions (seconds) and GFLOP/s of the best.
"""
import os
import statistics
import sys
import time

import numpy as np


def timeit(f, reps):
    f()  # warm up
    ts, cs = [], []
    for _ in range(reps):
        c0 = time.process_time()
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    # The CPU time (process_time) leaves out waiting for a CPU on a loaded machine.
    timeit.cpu_median = statistics.median(cs)
    return min(ts), statistics.median(ts)


def main():
    quick = len(sys.argv) == 3 and sys.argv[1] == "sgemm"
    engine = len(sys.argv) == 2 and sys.argv[1] == "engine"
    print("numpy", np.__version__, "OPENBLAS_NUM_THREADS=%s" % os.environ.get("OPENBLAS_NUM_THREADS"),
          "OPENBLAS_CORETYPE=%s" % os.environ.get("OPENBLAS_CORETYPE"))
    if not quick and not engine:
        np.show_config()
    try:
        import ctypes
        for lib in ("libopenblas.so.0", "libopenblasp.so.0"):
            try:
                so = ctypes.CDLL(lib)
            except OSError:
                continue
            so.openblas_get_config.restype = ctypes.c_char_p
            so.openblas_get_corename.restype = ctypes.c_char_p
            print("OpenBLAS config:", so.openblas_get_config().decode(), "core:", so.openblas_get_corename().decode())
            break
    except Exception as e:  # noqa: BLE001
        print("openblas_get_config unavailable:", e)
    sys.stdout.flush()
    rng = np.random.default_rng(1)

    n = 1024
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    flops = 2.0 * n ** 3
    for name, f in [] if engine else [
        ("sgemm NN 1024^3", lambda: a @ b),
        ("sgemm NT 1024^3", lambda: a @ b.T),
        ("sgemm TN 1024^3", lambda: a.T @ b),
    ]:
        best, med = timeit(f, int(sys.argv[2]) if quick else 20)
        print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s  cpu median %.4f s  %.2f cpu-GFLOP/s" % (
            name, best, med, flops / best / 1e9, timeit.cpu_median, flops / timeit.cpu_median / 1e9))
    if quick:
        return

    # The engine's shapes (see BenchmarkSgemmEngine): a training step at
    # batch 32 and the rehash at batch 256, width 1024.
    for name, (m, nn, k, ta, tb) in [
        ("train fwd NT 32x1024x1024", (32, 1024, 1024, False, True)),
        ("train dX NN 32x1024x1024", (32, 1024, 1024, False, False)),
        ("train dW TN 1024x1024x32", (1024, 1024, 32, True, False)),
        ("rehash fwd NT 256x1024x1024", (256, 1024, 1024, False, True)),
        ("rehash proj NT 256x128x1024", (256, 128, 1024, False, True)),
        ("rehash vh NT 128x1024x1024", (128, 1024, 1024, False, True)),
    ]:
        A = rng.uniform(-1, 1, (k, m) if ta else (m, k)).astype(np.float32)
        B = rng.uniform(-1, 1, (nn, k) if tb else (k, nn)).astype(np.float32)
        opA = (lambda A=A: A.T) if ta else (lambda A=A: A)
        opB = (lambda B=B: B.T) if tb else (lambda B=B: B)
        best, med = timeit(lambda: opA() @ opB(), 40)
        print("%-28s best %.6f s  median %.6f s  %.2f GFLOP/s  cpu median %.6f s" % (
            name, best, med, 2.0 * m * nn * k / best / 1e9, timeit.cpu_median))

    # Dense SRP hashing: N=4096 vectors, P=16384, 128 projections.
    N, P, R = 4096, 16384, 128
    x = rng.uniform(-1, 1, (N, P)).astype(np.float32)
    r = rng.uniform(-1, 1, (R, P)).astype(np.float32)
    flops = 2.0 * N * P * R
    best, med = timeit(lambda: np.packbits(x @ r.T > 0, axis=1), 6)
    print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s  cpu median %.4f s" % (
        "SRP 4096x16384x128+pack", best, med, flops / best / 1e9, timeit.cpu_median))
    best, med = timeit(lambda: x @ r.T, 6)
    print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s" % ("SRP matmul only", best, med, flops / best / 1e9))


if __name__ == "__main__":
    main()
