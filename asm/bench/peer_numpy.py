#!/usr/bin/env python3
"""Peer timings for asm/PERF.md: numpy (OpenBLAS) single-thread.

Run as:
    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 asm/bench/peer_numpy.py

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
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t0)
    return min(ts), statistics.median(ts)


def main():
    print("numpy", np.__version__, "OPENBLAS_NUM_THREADS=%s" % os.environ.get("OPENBLAS_NUM_THREADS"))
    np.show_config()
    sys.stdout.flush()
    rng = np.random.default_rng(1)

    n = 1024
    a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
    flops = 2.0 * n ** 3
    for name, f in [
        ("sgemm NN 1024^3", lambda: a @ b),
        ("sgemm NT 1024^3", lambda: a @ b.T),
        ("sgemm TN 1024^3", lambda: a.T @ b),
    ]:
        best, med = timeit(f, 20)
        print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s" % (name, best, med, flops / best / 1e9))

    # Dense SRP hashing: N=4096 vectors, P=16384, 128 projections.
    N, P, R = 4096, 16384, 128
    x = rng.uniform(-1, 1, (N, P)).astype(np.float32)
    r = rng.uniform(-1, 1, (R, P)).astype(np.float32)
    flops = 2.0 * N * P * R
    best, med = timeit(lambda: np.packbits(x @ r.T > 0, axis=1), 6)
    print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s" % ("SRP 4096x16384x128+pack", best, med, flops / best / 1e9))
    best, med = timeit(lambda: x @ r.T, 6)
    print("%-28s best %.4f s  median %.4f s  %.2f GFLOP/s" % ("SRP matmul only", best, med, flops / best / 1e9))


if __name__ == "__main__":
    main()
