//go:build mpi

package mpi

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestAllreduceTiming measures the float32 sum all-reduce of P = 18k, 1M
// and 10M elements, a fixed number of repetitions on every rank (a Go
// benchmark would pick b.N per rank, and the ranks would deadlock). It
// runs only with NTKLSH_MPI_BENCH=reps:
//
//	NTKLSH_MPI_BENCH=50 mpirun -np 2 /tmp/mpi.test -test.run Timing -test.v
func TestAllreduceTiming(t *testing.T) {
	reps, _ := strconv.Atoi(os.Getenv("NTKLSH_MPI_BENCH"))
	if reps < 1 {
		t.Skip("set NTKLSH_MPI_BENCH=reps to measure")
	}
	for _, P := range []int{18_000, 1_000_000, 10_000_000} {
		buf := make([]float32, P)
		if err := AllreduceFloat32(buf, Sum); err != nil { // warm up
			t.Fatal(err)
		}
		times := make([]float64, reps)
		for k := range times {
			Barrier()
			t0 := time.Now()
			if err := AllreduceFloat32(buf, Sum); err != nil {
				t.Fatal(err)
			}
			times[k] = time.Since(t0).Seconds()
		}
		slices.Sort(times)
		med := times[reps/2]
		if Rank() == 0 {
			// Bus bandwidth of a ring all-reduce: 2(R−1)/R · bytes / time.
			R := float64(Size())
			fmt.Printf("allreduce R=%d P=%d: median %.4g ms, min %.4g ms; algorithm bandwidth %.3g GB/s, bus bandwidth %.3g GB/s\n",
				Size(), P, 1e3*med, 1e3*times[0], 4*float64(P)/med/1e9, 2*(R-1)/R*4*float64(P)/med/1e9)
		}
	}
}
