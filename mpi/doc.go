// Package mpi is a thin cgo binding to the MPI library (Open MPI from
// Debian: apt-get install openmpi-bin libopenmpi-dev), compiled only under
// the build tag mpi so that the default build needs no MPI.
//
// It wraps exactly what ntklsh's distributed training needs, on
// MPI_COMM_WORLD: Init/Finalize, Rank/Size, in-place Allreduce of float32
// and float64 (sum, max), Allgather of fixed-size byte blocks and Allgatherv
// of variable ones, Bcast, Barrier and Abort. Calls are serialized by a
// mutex (MPI is initialized with MPI_THREAD_SERIALIZED), so any goroutine
// may call them, one at a time. MPI errors are fatal (the library's default
// handler aborts the job), so the functions return errors only for misuse
// (before Init, after Finalize) and for counts MPI cannot express.
//
// World returns a value whose methods match engine/dist.Comm.
//
// Run programs that use it under mpirun; a process started without mpirun
// is a job of one rank (the singleton mode of Open MPI).
package mpi
