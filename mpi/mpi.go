//go:build mpi

package mpi

/*
#cgo pkg-config: ompi-c
#include <mpi.h>
#include <stdlib.h>

static int ntk_init(int *provided) {
	return MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
}
static int ntk_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int ntk_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static MPI_Op ntk_op(int op) { return op == 0 ? MPI_SUM : MPI_MAX; }
static int ntk_allreduce_f32(void *buf, int n, int op) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, ntk_op(op), MPI_COMM_WORLD);
}
static int ntk_allreduce_f64(void *buf, int n, int op) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, ntk_op(op), MPI_COMM_WORLD);
}
static int ntk_allgather(void *send, int n, void *recv) {
	return MPI_Allgather(send, n, MPI_BYTE, recv, n, MPI_BYTE, MPI_COMM_WORLD);
}
static int ntk_allgatherv(void *send, int n, void *recv, int *counts, int *displs) {
	return MPI_Allgatherv(send, n, MPI_BYTE, recv, counts, displs, MPI_BYTE, MPI_COMM_WORLD);
}
static int ntk_bcast(void *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD); }
static int ntk_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static int ntk_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }
static int ntk_finalize(void) { return MPI_Finalize(); }
static double ntk_wtime(void) { return MPI_Wtime(); }
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"sync"
	"unsafe"
)

// Op is a reduction operation.
type Op int

// The reductions Allreduce supports.
const (
	Sum Op = 0
	Max Op = 1
)

var state struct {
	sync.Mutex
	init, done bool
	rank, size int
}

// maxChunk bounds one MPI call's element count (MPI counts are C ints).
const maxChunk = 1 << 30

func check(what string, rc C.int) error {
	if rc != C.MPI_SUCCESS {
		return fmt.Errorf("mpi: %s failed (error %d)", what, int(rc))
	}
	return nil
}

// Init initializes MPI (once; later calls do nothing). It turns off Open
// MPI's own handlers of SIGSEGV/SIGBUS/SIGFPE/SIGABRT, which would take
// them from the Go runtime, unless OMPI_MCA_opal_signal is already set.
func Init() error {
	state.Lock()
	defer state.Unlock()
	if state.done {
		return errors.New("mpi: Init after Finalize")
	}
	if state.init {
		return nil
	}
	if _, ok := os.LookupEnv("OMPI_MCA_opal_signal"); !ok {
		os.Setenv("OMPI_MCA_opal_signal", "")
	}
	var provided C.int
	if err := check("MPI_Init_thread", C.ntk_init(&provided)); err != nil {
		return err
	}
	if provided < C.MPI_THREAD_SERIALIZED {
		C.ntk_finalize()
		return fmt.Errorf("mpi: the MPI library provides thread level %d, below MPI_THREAD_SERIALIZED", int(provided))
	}
	var r, s C.int
	if err := check("MPI_Comm_rank", C.ntk_rank(&r)); err != nil {
		return err
	}
	if err := check("MPI_Comm_size", C.ntk_size(&s)); err != nil {
		return err
	}
	state.init, state.rank, state.size = true, int(r), int(s)
	return nil
}

// Initialized reports whether Init succeeded and Finalize was not called.
func Initialized() bool {
	state.Lock()
	defer state.Unlock()
	return state.init && !state.done
}

// Finalize shuts MPI down (once; a no-op before Init).
func Finalize() error {
	state.Lock()
	defer state.Unlock()
	if !state.init || state.done {
		return nil
	}
	state.done = true
	return check("MPI_Finalize", C.ntk_finalize())
}

// lock takes the MPI lock and checks that MPI is usable.
func lock() error {
	state.Lock()
	if !state.init || state.done {
		state.Unlock()
		return errors.New("mpi: not initialized (call mpi.Init first) or already finalized")
	}
	return nil
}

// Rank is this process's rank in MPI_COMM_WORLD (0 before Init).
func Rank() int { state.Lock(); defer state.Unlock(); return state.rank }

// Size is the number of ranks in MPI_COMM_WORLD (0 before Init).
func Size() int { state.Lock(); defer state.Unlock(); return state.size }

// Wtime is MPI_Wtime, seconds since an arbitrary time.
func Wtime() float64 { return float64(C.ntk_wtime()) }

// AllreduceFloat32 replaces buf, on every rank, by the element-wise
// reduction of every rank's buf (which must have the same length on all).
func AllreduceFloat32(buf []float32, op Op) error {
	if op != Sum && op != Max {
		return fmt.Errorf("mpi: unknown reduction %d", op)
	}
	if err := lock(); err != nil {
		return err
	}
	defer state.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), maxChunk)
		if err := check("MPI_Allreduce", C.ntk_allreduce_f32(unsafe.Pointer(&buf[0]), C.int(n), C.int(op))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// AllreduceFloat64 is AllreduceFloat32 for float64.
func AllreduceFloat64(buf []float64, op Op) error {
	if op != Sum && op != Max {
		return fmt.Errorf("mpi: unknown reduction %d", op)
	}
	if err := lock(); err != nil {
		return err
	}
	defer state.Unlock()
	for len(buf) > 0 {
		n := min(len(buf), maxChunk)
		if err := check("MPI_Allreduce", C.ntk_allreduce_f64(unsafe.Pointer(&buf[0]), C.int(n), C.int(op))); err != nil {
			return err
		}
		buf = buf[n:]
	}
	return nil
}

// Allgather concatenates, in rank order, every rank's send block (the same
// length on every rank) into recv, which must hold Size()·len(send) bytes.
func Allgather(send, recv []byte) error {
	if err := lock(); err != nil {
		return err
	}
	defer state.Unlock()
	if len(recv) != state.size*len(send) {
		return fmt.Errorf("mpi: Allgather of %d bytes over %d ranks needs %d bytes, got %d", len(send), state.size, state.size*len(send), len(recv))
	}
	if len(send) > math.MaxInt32 {
		return errors.New("mpi: Allgather block over 2 GiB")
	}
	if len(send) == 0 {
		return nil
	}
	return check("MPI_Allgather", C.ntk_allgather(unsafe.Pointer(&send[0]), C.int(len(send)), unsafe.Pointer(&recv[0])))
}

// Allgatherv gathers every rank's send block, of any length, and returns
// them in rank order (a copy on every rank).
func Allgatherv(send []byte) ([][]byte, error) {
	n := Size()
	if n == 0 {
		return nil, lock() // reports the error
	}
	if len(send) > math.MaxInt32 {
		return nil, errors.New("mpi: Allgatherv block over 2 GiB")
	}
	var l [8]byte
	putInt(l[:], len(send))
	lens := make([]byte, 8*n)
	if err := Allgather(l[:], lens); err != nil {
		return nil, err
	}
	counts := (*[1 << 20]C.int)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.int(0)))))[:n:n]
	displs := (*[1 << 20]C.int)(C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.int(0)))))[:n:n]
	defer C.free(unsafe.Pointer(&counts[0]))
	defer C.free(unsafe.Pointer(&displs[0]))
	total := 0
	for r := 0; r < n; r++ {
		c := getInt(lens[8*r:])
		if total+c > math.MaxInt32 {
			return nil, errors.New("mpi: Allgatherv of over 2 GiB in all")
		}
		counts[r], displs[r] = C.int(c), C.int(total)
		total += c
	}
	recv := make([]byte, max(total, 1))
	sp := unsafe.Pointer(&recv[0]) // any valid address for an empty block
	if len(send) > 0 {
		sp = unsafe.Pointer(&send[0])
	}
	if err := lock(); err != nil {
		return nil, err
	}
	err := check("MPI_Allgatherv", C.ntk_allgatherv(sp, C.int(len(send)), unsafe.Pointer(&recv[0]), &counts[0], &displs[0]))
	state.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for r := range out {
		out[r] = recv[displs[r] : displs[r]+counts[r] : displs[r]+counts[r]]
	}
	return out, nil
}

func putInt(b []byte, v int) {
	for i := 0; i < 8; i++ {
		b[i] = byte(v >> (8 * i))
	}
}

func getInt(b []byte) int {
	var v int
	for i := 0; i < 8; i++ {
		v |= int(b[i]) << (8 * i)
	}
	return v
}

// Bcast copies root's buf into every other rank's buf (the same length on
// every rank).
func Bcast(buf []byte, root int) error {
	if err := lock(); err != nil {
		return err
	}
	defer state.Unlock()
	if root < 0 || root >= state.size {
		return fmt.Errorf("mpi: Bcast root %d outside [0, %d)", root, state.size)
	}
	if len(buf) > math.MaxInt32 {
		return errors.New("mpi: Bcast of over 2 GiB")
	}
	if len(buf) == 0 {
		return nil
	}
	return check("MPI_Bcast", C.ntk_bcast(unsafe.Pointer(&buf[0]), C.int(len(buf)), C.int(root)))
}

// Barrier returns when every rank has called it.
func Barrier() error {
	if err := lock(); err != nil {
		return err
	}
	defer state.Unlock()
	return check("MPI_Barrier", C.ntk_barrier())
}

// Abort ends every process of the job with exit code code (MPI_Abort); it
// does not return. It does not take the lock, so that a rank stuck in
// nothing but its own failure can always abort.
func Abort(code int) {
	C.ntk_abort(C.int(code))
	os.Exit(code)
}

// Comm is MPI_COMM_WORLD as an engine/dist.Comm.
type Comm struct{}

// World returns MPI_COMM_WORLD (call Init first).
func World() Comm { return Comm{} }

func (Comm) Rank() int                                { return Rank() }
func (Comm) Size() int                                { return Size() }
func (Comm) AllreduceSum32(buf []float32) error       { return AllreduceFloat32(buf, Sum) }
func (Comm) AllreduceSum64(buf []float64) error       { return AllreduceFloat64(buf, Sum) }
func (Comm) AllreduceMax64(buf []float64) error       { return AllreduceFloat64(buf, Max) }
func (Comm) Allgatherv(send []byte) ([][]byte, error) { return Allgatherv(send) }
func (Comm) Bcast(buf []byte, root int) error         { return Bcast(buf, root) }
func (Comm) Barrier() error                           { return Barrier() }
func (Comm) Abort(code int)                           { Abort(code) }
