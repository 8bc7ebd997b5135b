//go:build cuda

package cuda

/*
#cgo LDFLAGS: -lcublas -lcuda
#include <string.h>
#include <cuda.h>
#include <cublas_v2.h>

// ntklsh_memcpy2d copies a height×width-byte block between host memory
// (row pitch hpitch) and device memory (row pitch dpitch). gorgonia.org/cu's
// Memcpy2D cannot be used: it dereferences the (nil) CUDA array handles of
// its parameter struct.
static CUresult ntklsh_memcpy2d(int to_device, CUdeviceptr dev, size_t dpitch, void *host,
                                size_t hpitch, size_t width, size_t height) {
	CUDA_MEMCPY2D c;
	memset(&c, 0, sizeof c);
	if (to_device) {
		c.srcMemoryType = CU_MEMORYTYPE_HOST;
		c.srcHost = host;
		c.srcPitch = hpitch;
		c.dstMemoryType = CU_MEMORYTYPE_DEVICE;
		c.dstDevice = dev;
		c.dstPitch = dpitch;
	} else {
		c.srcMemoryType = CU_MEMORYTYPE_DEVICE;
		c.srcDevice = dev;
		c.srcPitch = dpitch;
		c.dstMemoryType = CU_MEMORYTYPE_HOST;
		c.dstHost = host;
		c.dstPitch = hpitch;
	}
	c.WidthInBytes = width;
	c.Height = height;
	return cuMemcpy2D(&c);
}

static const char *ntklsh_cu_error(CUresult r) {
	const char *s = NULL;
	if (cuGetErrorString(r, &s) != CUDA_SUCCESS || s == NULL) return "unknown CUDA error";
	return s;
}
*/
import "C"

import (
	_ "embed"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"sync"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gorgonia.org/cu"
	cublas "gorgonia.org/cu/blas"

	"github.com/ntklsh/ntklsh/asm"
	"github.com/ntklsh/ntklsh/kernels"
)

//go:embed kernels.ptx
var kernelsPTX string

// Kernel IDs, indices into kernelNames and Backend.fn.
const (
	kSignPack = iota
	kRowSumSq
	kRowDots
	kDotPartial
	kAxpy
	kActForward
	kActBackward
	kBiasAdd
	kColSumsPartial
	kColSumsFinal
	kScaleMat
	numKernels
)

// Scratch slots for the host-slice API.
const (
	slotA = iota
	slotB
	slotC
	slotOut
	slotPartials
	slotColSums
	numSlots
)

const (
	block1D     = 256  // threads per block of the elementwise kernels
	longRow     = 1024 // rows at least this long get a whole block in row_sumsq / row_dots
	colTarget   = 1024 // blocks col_sums_partial aims for
	dotMaxGrid  = 1024 // most blocks (partial sums) of dot_partial
	maxGridY    = 65535
	scratchStep = 1 << 16 // scratch sizes are rounded up to this many bytes
)

var errClosed = errors.New("cuda: Backend is closed")

// Backend runs kernels.Backend and the device-resident operations on one
// CUDA device. Create one with New or use the shared, registered one from
// Shared; Close releases it. All CUDA work runs on one goroutine locked to
// its OS thread (the context's thread); methods are safe for concurrent use.
type Backend struct {
	ordinal int

	startOnce sync.Once
	startErr  error

	mu      sync.RWMutex // guards closed and sends on jobs
	closed  bool
	jobs    chan job
	stopped chan error

	// Owned by the worker goroutine.
	ctx     cu.CUContext
	fn      [numKernels]cu.Function
	blas    *cublas.Standard
	scratch [numSlots]devMem
	desc    string
	tf32    bool
}

type job struct {
	f    func() error
	done chan error
}

type devMem struct {
	ptr   cu.DevicePtr
	bytes int64
}

var shared = &Backend{}

func init() {
	// Priority 5, below avx2 (10): the kernels.Backend methods copy host
	// slices in and out on every call, which loses to the CPU for the
	// engine's many small calls, so automatic selection never picks cuda;
	// --kernels cuda (or NTKLSH_KERNELS=cuda) forces it, and the CLI then
	// runs rehashes on the GPU through a Rehasher.
	kernels.Register(shared, 5, func() (bool, string) {
		if err := shared.start(); err != nil {
			return false, err.Error()
		}
		return true, "cuda: " + shared.desc
	})
}

// Shared returns the process-wide Backend that is registered with package
// kernels as "cuda", starting it on first use. It fails when no CUDA device
// can be used. Do not Close it while others may use it.
func Shared() (*Backend, error) {
	if err := shared.start(); err != nil {
		return nil, err
	}
	return shared, nil
}

// New creates a Backend on CUDA device 0 with its own context.
func New() (*Backend, error) { return NewOnDevice(0) }

// NewOnDevice creates a Backend on the CUDA device with the given ordinal,
// with its own context. It fails with a clear message when there is no such
// device or the context, the kernels or cuBLAS cannot be set up.
func NewOnDevice(ordinal int) (*Backend, error) {
	be := &Backend{ordinal: ordinal}
	if err := be.start(); err != nil {
		return nil, err
	}
	return be, nil
}

// Name returns "cuda".
func (be *Backend) Name() string { return "cuda" }

// Device describes the device: name, compute capability and memory.
func (be *Backend) Device() string {
	if err := be.start(); err != nil {
		return "unusable: " + err.Error()
	}
	return be.desc
}

func (be *Backend) start() error {
	be.startOnce.Do(func() {
		be.jobs = make(chan job)
		be.stopped = make(chan error, 1)
		ready := make(chan error, 1)
		go be.loop(ready)
		be.startErr = <-ready
		if be.startErr != nil {
			be.closed = true
		}
	})
	return be.startErr
}

// loop is the worker goroutine: it stays on its OS thread (never unlocked,
// so the thread ends with it), owns the context and runs every job.
func (be *Backend) loop(ready chan<- error) {
	runtime.LockOSThread()
	if err := be.setup(); err != nil {
		be.teardown()
		ready <- err
		return
	}
	ready <- nil
	for j := range be.jobs {
		j.done <- j.f()
	}
	be.stopped <- be.teardown()
}

func (be *Backend) setup() error {
	n, err := cu.NumDevices()
	if err != nil {
		return fmt.Errorf("cuda: counting devices: %w", err)
	}
	if n == 0 {
		return errors.New("cuda: no CUDA device found")
	}
	if be.ordinal < 0 || be.ordinal >= n {
		return fmt.Errorf("cuda: device %d does not exist (%d device(s))", be.ordinal, n)
	}
	dev, err := cu.GetDevice(be.ordinal)
	if err != nil {
		return fmt.Errorf("cuda: getting device %d: %w", be.ordinal, err)
	}
	name, err := dev.Name()
	if err != nil {
		return fmt.Errorf("cuda: device name: %w", err)
	}
	major, minor, err := dev.ComputeCapability()
	if err != nil {
		return fmt.Errorf("cuda: compute capability: %w", err)
	}
	mem, err := dev.TotalMem()
	if err != nil {
		return fmt.Errorf("cuda: device memory: %w", err)
	}
	if major < 8 {
		return fmt.Errorf("cuda: %s has compute capability %d.%d; the kernels are compute_80 PTX and need 8.0 or newer", name, major, minor)
	}
	be.ctx, err = dev.MakeContext(cu.SchedAuto)
	if err != nil {
		return fmt.Errorf("cuda: creating a context on %s: %w", name, err)
	}
	mod, err := cu.LoadData(kernelsPTX)
	if err != nil {
		return fmt.Errorf("cuda: loading kernels.ptx: %w", err)
	}
	for i, k := range kernelNames {
		if be.fn[i], err = mod.Function(k); err != nil {
			return fmt.Errorf("cuda: kernel %s in kernels.ptx: %w", k, err)
		}
	}
	impl := &cublas.Standard{}
	if err := impl.Init(); err != nil {
		return fmt.Errorf("cuda: cuBLAS: %w", err)
	}
	be.blas = impl
	if err := be.setMathMode(false); err != nil {
		return err
	}
	ver := cu.Version()
	be.desc = fmt.Sprintf("%s (sm_%d%d, %.1f GiB, driver API %d.%d)", name, major, minor,
		float64(mem)/(1<<30), ver/1000, ver%1000/10)
	return nil
}

// teardown releases what setup and the jobs acquired; the context's
// destruction frees the module and any Buffers still allocated.
func (be *Backend) teardown() error {
	var errs []error
	for i := range be.scratch {
		if be.scratch[i].ptr != 0 {
			if err := cu.MemFree(be.scratch[i].ptr); err != nil {
				errs = append(errs, fmt.Errorf("cuda: freeing scratch: %w", err))
			}
			be.scratch[i] = devMem{}
		}
	}
	if be.blas != nil {
		if err := be.blas.Close(); err != nil {
			errs = append(errs, fmt.Errorf("cuda: closing cuBLAS: %w", err))
		}
		be.blas = nil
	}
	if be.ctx != (cu.CUContext{}) {
		if err := be.ctx.Destroy(); err != nil {
			errs = append(errs, fmt.Errorf("cuda: destroying the context: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Close releases the context and everything allocated in it, Buffers
// included. Later calls fail (device-resident methods return an error,
// kernels.Backend methods panic). Closing twice is a no-op.
func (be *Backend) Close() error {
	if err := be.start(); err != nil {
		return nil
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.closed {
		return nil
	}
	be.closed = true
	close(be.jobs)
	return <-be.stopped
}

// do runs f on the worker goroutine and returns its error.
func (be *Backend) do(f func() error) error {
	if err := be.start(); err != nil {
		return err
	}
	be.mu.RLock()
	defer be.mu.RUnlock()
	if be.closed {
		return errClosed
	}
	done := make(chan error, 1)
	be.jobs <- job{f, done}
	return <-done
}

// must turns a CUDA failure inside a kernels.Backend method (which has no
// error result) into a panic.
func must(op string, err error) {
	if err != nil {
		panic(fmt.Sprintf("cuda: %s: %v", op, err))
	}
}

// Synchronize waits for all work queued on the device and returns any
// error of an earlier asynchronous launch.
func (be *Backend) Synchronize() error {
	return be.do(func() error {
		if err := cu.Synchronize(); err != nil {
			return fmt.Errorf("cuda: synchronize: %w", err)
		}
		return nil
	})
}

// SetTF32 switches cuBLAS SGEMM between pure FP32 math (false, the default)
// and TF32 tensor-core math (true: faster, about 1e-3 relative error instead
// of about 1e-7). It affects Sgemm and SgemmDevice of this Backend.
func (be *Backend) SetTF32(on bool) error {
	return be.do(func() error { return be.setMathMode(on) })
}

// cublasHandle returns the cuBLAS handle inside gorgonia.org/cu/blas's
// Standard, which does not export it (needed for cublasSetMathMode). It
// checks the field layout it relies on.
func cublasHandle(impl *cublas.Standard) C.cublasHandle_t {
	f := reflect.TypeFor[cublas.Standard]().Field(0)
	if f.Name != "h" || f.Offset != 0 || f.Type.Size() != unsafe.Sizeof(uintptr(0)) {
		panic("cuda: gorgonia.org/cu/blas.Standard no longer starts with the cuBLAS handle h; update cublasHandle")
	}
	return *(*C.cublasHandle_t)(unsafe.Pointer(impl))
}

func (be *Backend) setMathMode(tf32 bool) error {
	h := cublasHandle(be.blas)
	mode := C.cublasMath_t(C.CUBLAS_DEFAULT_MATH)
	if tf32 {
		mode = C.CUBLAS_TF32_TENSOR_OP_MATH
	}
	if st := C.cublasSetMathMode(h, mode); st != C.CUBLAS_STATUS_SUCCESS {
		return fmt.Errorf("cuda: cublasSetMathMode(%d): status %d", int(mode), int(st))
	}
	var got C.cublasMath_t
	if st := C.cublasGetMathMode(h, &got); st != C.CUBLAS_STATUS_SUCCESS || got != mode {
		return fmt.Errorf("cuda: cublasGetMathMode: status %d, mode %d, want %d", int(st), int(got), int(mode))
	}
	be.tf32 = tf32
	return nil
}

// ---- worker-side helpers (call only inside do) ----

// scratchPtr returns a device buffer of at least bytes bytes in slot,
// growing it (never shrinking) when needed.
func (be *Backend) scratchPtr(slot int, bytes int64) (cu.DevicePtr, error) {
	s := &be.scratch[slot]
	if s.bytes >= bytes {
		return s.ptr, nil
	}
	if s.ptr != 0 {
		if err := cu.MemFree(s.ptr); err != nil {
			return 0, fmt.Errorf("cuda: freeing scratch: %w", err)
		}
		*s = devMem{}
	}
	size := max(bytes, s.bytes+s.bytes/4)
	size = (size + scratchStep - 1) / scratchStep * scratchStep
	ptr, err := cu.MemAlloc(size)
	if err != nil {
		return 0, fmt.Errorf("cuda: allocating %d bytes of scratch: %w", size, err)
	}
	*s = devMem{ptr, size}
	return ptr, nil
}

// upload copies a rows×cols host matrix with leading dimension ld to
// compact device memory (leading dimension cols). rows, cols ≥ 1.
func upload(dst cu.DevicePtr, src []float32, rows, cols, ld int) error {
	var err error
	if rows == 1 || ld == cols {
		err = cu.MemcpyHtoD(dst, unsafe.Pointer(&src[0]), int64(rows*cols)*4)
	} else {
		err = memcpy2D(true, dst, cols*4, unsafe.Pointer(&src[0]), ld*4, cols*4, rows)
	}
	if err != nil {
		return fmt.Errorf("cuda: copy to device (%d×%d): %w", rows, cols, err)
	}
	return nil
}

// download copies a compact rows×cols device matrix into host memory with
// leading dimension ld, leaving the host elements between rows untouched.
func download(dst []float32, src cu.DevicePtr, rows, cols, ld int) error {
	var err error
	if rows == 1 || ld == cols {
		err = cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, int64(rows*cols)*4)
	} else {
		err = memcpy2D(false, src, cols*4, unsafe.Pointer(&dst[0]), ld*4, cols*4, rows)
	}
	if err != nil {
		return fmt.Errorf("cuda: copy from device (%d×%d): %w", rows, cols, err)
	}
	return nil
}

// cuError is a CUresult other than CUDA_SUCCESS.
type cuError C.CUresult

func (e cuError) Error() string {
	return fmt.Sprintf("%s (CUresult %d)", C.GoString(C.ntklsh_cu_error(C.CUresult(e))), int(e))
}

func memcpy2D(toDevice bool, dev cu.DevicePtr, dpitch int, host unsafe.Pointer, hpitch, width, height int) error {
	td := C.int(0)
	if toDevice {
		td = 1
	}
	if r := C.ntklsh_memcpy2d(td, C.CUdeviceptr(dev), C.size_t(dpitch), host, C.size_t(hpitch),
		C.size_t(width), C.size_t(height)); r != C.CUDA_SUCCESS {
		return cuError(r)
	}
	return nil
}

// Kernel arguments: cu.Function.Launch copies 8 bytes from each pointer, so
// every argument is an 8-byte value (the PTX test checks the kernels' side).
func argPtr(p cu.DevicePtr) unsafe.Pointer { return unsafe.Pointer(&p) }
func argInt(v int) unsafe.Pointer          { x := int64(v); return unsafe.Pointer(&x) }
func argF64(v float64) unsafe.Pointer      { return unsafe.Pointer(&v) }

func (be *Backend) launch(k int, gx, gy, bx, by int, args ...unsafe.Pointer) error {
	if err := be.fn[k].Launch(gx, gy, 1, bx, by, 1, 0, cu.NoStream, args); err != nil {
		return fmt.Errorf("cuda: launching %s (grid %d×%d, block %d×%d): %w", kernelNames[k], gx, gy, bx, by, err)
	}
	return nil
}

func blocks(n, per int) int { return (n + per - 1) / per }

// devSlice views device memory as a []float32 for gorgonia.org/cu/blas,
// which takes &s[0] as the device pointer. The slice must never be indexed
// on the host.
func devSlice(p cu.DevicePtr, n int) []float32 {
	return unsafe.Slice(*(**float32)(unsafe.Pointer(&p)), n)
}

func span(rows, cols, ld int) int { return (rows-1)*ld + cols }

func (be *Backend) gemmDev(transA, transB bool, m, n, k int, alpha float32, a cu.DevicePtr, lda int, b cu.DevicePtr, ldb int, beta float32, c cu.DevicePtr, ldc int) error {
	if m == 0 || n == 0 {
		return nil
	}
	if k == 0 || alpha == 0 {
		return be.scaleDev(m, n, beta, c, ldc)
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	tA, tB := blas.NoTrans, blas.NoTrans
	if transA {
		tA = blas.Trans
	}
	if transB {
		tB = blas.Trans
	}
	// Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ, and a
	// row-major matrix is its transpose in column-major: swap the operands.
	be.blas.Sgemm(tB, tA, n, m, k, alpha, devSlice(b, span(br, bc, ldb)), ldb,
		devSlice(a, span(ar, ac, lda)), lda, beta, devSlice(c, span(m, n, ldc)), ldc)
	if err := be.blas.Err(); err != nil {
		return fmt.Errorf("cuda: cublasSgemm(%d×%d×%d): %w", m, n, k, err)
	}
	return nil
}

func (be *Backend) scaleDev(m, n int, beta float32, c cu.DevicePtr, ldc int) error {
	if beta == 1 {
		return nil
	}
	return be.launch(kScaleMat, blocks(n, 32), min(blocks(m, 8), maxGridY), 32, 8,
		argInt(m), argInt(n), argF64(float64(beta)), argPtr(c), argInt(ldc))
}

// rowsPerBlock picks how many rows one 256-thread block of row_sumsq /
// row_dots reduces: 1 (a block per row) for long rows, else 8 (a warp each).
func rowsPerBlock(n int) int {
	if n >= longRow {
		return 1
	}
	return 8
}

func (be *Backend) rowSumSqDev(m, n int, scale float64, a cu.DevicePtr, lda int, out cu.DevicePtr) error {
	rpb := rowsPerBlock(n)
	return be.launch(kRowSumSq, blocks(m, rpb), 1, block1D, 1,
		argPtr(a), argInt(lda), argInt(m), argInt(n), argF64(scale), argPtr(out), argInt(rpb))
}

func (be *Backend) rowDotsDev(m, n int, a cu.DevicePtr, lda int, b cu.DevicePtr, ldb int, out cu.DevicePtr) error {
	rpb := rowsPerBlock(n)
	return be.launch(kRowDots, blocks(m, rpb), 1, block1D, 1,
		argPtr(a), argInt(lda), argPtr(b), argInt(ldb), argInt(m), argInt(n), argPtr(out), argInt(rpb))
}

// signPackWords is SP_WORDS in kernels.cu: the 32-bit words of sign bits
// one warp of sign_pack handles.
const signPackWords = 4

func (be *Backend) signPackDev(m, k, l int, p cu.DevicePtr, ldp int, codes cu.DevicePtr) error {
	warps := m * blocks(blocks(k*l, 32), signPackWords)
	return be.launch(kSignPack, blocks(warps, block1D/32), 1, block1D, 1,
		argPtr(p), argInt(ldp), argPtr(codes), argInt(m), argInt(k), argInt(l))
}

// colSumsDev sets out[j] = Σ_i a[i*lda+j] (n ≥ 1): float64 partial sums
// over row chunks, then one pass adding the chunks in order.
func (be *Backend) colSumsDev(m, n int, a cu.DevicePtr, lda int, out cu.DevicePtr) error {
	cols := blocks(n, 32)
	chunks := max(1, min(blocks(colTarget, cols), blocks(m, 8), maxGridY))
	rows := max(blocks(m, chunks), 1)
	chunks = max(blocks(m, rows), 1)
	part, err := be.scratchPtr(slotColSums, int64(chunks*n)*8)
	if err != nil {
		return err
	}
	if err := be.launch(kColSumsPartial, cols, chunks, 32, 8,
		argInt(m), argInt(n), argPtr(a), argInt(lda), argInt(rows), argPtr(part)); err != nil {
		return err
	}
	return be.launch(kColSumsFinal, blocks(n, block1D), 1, block1D, 1,
		argInt(n), argInt(chunks), argPtr(part), argPtr(out))
}

func (be *Backend) axpyDev(n int, alpha float32, x, y cu.DevicePtr) error {
	return be.launch(kAxpy, blocks(n, block1D), 1, block1D, 1,
		argInt(n), argF64(float64(alpha)), argPtr(x), argPtr(y))
}

// dotDev computes Σ x[i]·y[i] for n ≥ 1 elements: per-block float64 partial
// sums on the device, added on the host in a fixed order.
func (be *Backend) dotDev(n int, x, y cu.DevicePtr) (float64, error) {
	grid := min(blocks(n, block1D), dotMaxGrid)
	part, err := be.scratchPtr(slotPartials, dotMaxGrid*8)
	if err != nil {
		return 0, err
	}
	if err := be.launch(kDotPartial, grid, 1, block1D, 1, argPtr(x), argPtr(y), argInt(n), argPtr(part)); err != nil {
		return 0, err
	}
	var host [dotMaxGrid]float64
	if err := cu.MemcpyDtoH(unsafe.Pointer(&host[0]), part, int64(grid)*8); err != nil {
		return 0, fmt.Errorf("cuda: copying dot partials: %w", err)
	}
	s := 0.0
	for _, v := range host[:grid] {
		s += v
	}
	return s, nil
}

// ---- kernels.Backend (host slices in, host slices out) ----

var _ kernels.Backend = (*Backend)(nil)

func checkGemm(transA, transB bool, m, n, k int, la, lda, lb, ldb, lc, ldc int) {
	asm.CheckSgemm("cuda", transA, transB, m, n, k, la, lda, lb, ldb, lc, ldc)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C (see kernels.Backend) with
// cuBLAS, copying A, B (and C when beta ≠ 0) to the device and C back.
func (be *Backend) Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, len(a), lda, len(b), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 { // no product: C = beta·C, as kernels.Generic does, on the host
		for i := 0; i < m; i++ {
			row := c[i*ldc : i*ldc+n]
			if beta == 0 {
				clear(row)
				continue
			}
			for j := range row {
				row[j] *= beta
			}
		}
		return
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	must("Sgemm", be.do(func() error {
		da, err := be.scratchPtr(slotA, int64(ar*ac)*4)
		if err != nil {
			return err
		}
		db, err := be.scratchPtr(slotB, int64(br*bc)*4)
		if err != nil {
			return err
		}
		dc, err := be.scratchPtr(slotC, int64(m*n)*4)
		if err != nil {
			return err
		}
		if err := upload(da, a, ar, ac, lda); err != nil {
			return err
		}
		if err := upload(db, b, br, bc, ldb); err != nil {
			return err
		}
		if beta != 0 {
			if err := upload(dc, c, m, n, ldc); err != nil {
				return err
			}
		}
		if err := be.gemmDev(transA, transB, m, n, k, alpha, da, ac, db, bc, beta, dc, n); err != nil {
			return err
		}
		return download(c, dc, m, n, ldc)
	}))
}

// Dot returns Σ x[i]·y[i] over len(x) elements, accumulated in float64.
func (be *Backend) Dot(x, y []float32) float64 {
	n := len(x)
	if len(y) < n {
		panic("cuda: Dot with len(y) < len(x)")
	}
	if n == 0 {
		return 0
	}
	var s float64
	must("Dot", be.do(func() error {
		dx, err := be.scratchPtr(slotA, int64(n)*4)
		if err != nil {
			return err
		}
		dy, err := be.scratchPtr(slotB, int64(n)*4)
		if err != nil {
			return err
		}
		if err := upload(dx, x, 1, n, n); err != nil {
			return err
		}
		if err := upload(dy, y, 1, n, n); err != nil {
			return err
		}
		s, err = be.dotDev(n, dx, dy)
		return err
	}))
	return s
}

// Axpy computes y[i] += alpha·x[i] over len(x) elements.
func (be *Backend) Axpy(alpha float32, x, y []float32) {
	n := len(x)
	if len(y) < n {
		panic("cuda: Axpy with len(y) < len(x)")
	}
	if n == 0 {
		return
	}
	must("Axpy", be.do(func() error {
		dx, err := be.scratchPtr(slotA, int64(n)*4)
		if err != nil {
			return err
		}
		dy, err := be.scratchPtr(slotB, int64(n)*4)
		if err != nil {
			return err
		}
		if err := upload(dx, x, 1, n, n); err != nil {
			return err
		}
		if err := upload(dy, y, 1, n, n); err != nil {
			return err
		}
		if err := be.axpyDev(n, alpha, dx, dy); err != nil {
			return err
		}
		return download(y, dy, 1, n, n)
	}))
}

func checkRows(op string, m, n int, la, lda int) {
	if m < 0 || n < 0 {
		panic("cuda: " + op + " with a negative dimension")
	}
	if lda < n {
		panic("cuda: " + op + " leading dimension smaller than row length")
	}
	if m > 0 && n > 0 && la < span(m, n, lda) {
		panic("cuda: " + op + " buffer too short for its shape")
	}
}

// RowSumSquares sets out[i] = scale·Σ_j a[i*lda+j]² (float64 accumulation).
func (be *Backend) RowSumSquares(m, n int, scale float64, a []float32, lda int, out []float64) {
	checkRows("RowSumSquares", m, n, len(a), lda)
	if len(out) < m {
		panic("cuda: RowSumSquares output shorter than m")
	}
	if m == 0 {
		return
	}
	if n == 0 {
		for i := range out[:m] {
			out[i] = scale * 0
		}
		return
	}
	must("RowSumSquares", be.do(func() error {
		da, err := be.scratchPtr(slotA, int64(m*n)*4)
		if err != nil {
			return err
		}
		dout, err := be.scratchPtr(slotOut, int64(m)*8)
		if err != nil {
			return err
		}
		if err := upload(da, a, m, n, lda); err != nil {
			return err
		}
		if err := be.rowSumSqDev(m, n, scale, da, n, dout); err != nil {
			return err
		}
		return downloadF64(out[:m], dout)
	}))
}

// RowDots sets out[i] = Σ_j a[i*lda+j]·b[i*ldb+j] (float64 accumulation).
func (be *Backend) RowDots(m, n int, a []float32, lda int, b []float32, ldb int, out []float64) {
	checkRows("RowDots", m, n, len(a), lda)
	checkRows("RowDots", m, n, len(b), ldb)
	if len(out) < m {
		panic("cuda: RowDots output shorter than m")
	}
	if m == 0 {
		return
	}
	if n == 0 {
		clear(out[:m])
		return
	}
	must("RowDots", be.do(func() error {
		da, err := be.scratchPtr(slotA, int64(m*n)*4)
		if err != nil {
			return err
		}
		db, err := be.scratchPtr(slotB, int64(m*n)*4)
		if err != nil {
			return err
		}
		dout, err := be.scratchPtr(slotOut, int64(m)*8)
		if err != nil {
			return err
		}
		if err := upload(da, a, m, n, lda); err != nil {
			return err
		}
		if err := upload(db, b, m, n, ldb); err != nil {
			return err
		}
		if err := be.rowDotsDev(m, n, da, n, db, n, dout); err != nil {
			return err
		}
		return downloadF64(out[:m], dout)
	}))
}

func checkSignPack(m, k, l int, lp, ldp, lcodes int) {
	if k < 1 || k > 32 {
		panic("cuda: SignPack needs 1 ≤ k ≤ 32")
	}
	if m < 0 || l < 0 {
		panic("cuda: SignPack with a negative dimension")
	}
	if ldp < k*l {
		panic("cuda: SignPack leading dimension smaller than k·l")
	}
	if m > 0 && l > 0 && (lp < span(m, k*l, ldp) || lcodes < m*l) {
		panic("cuda: SignPack buffer too short for its shape")
	}
}

// SignPack packs the signs of an m×(k·l) matrix into l codes of k bits per
// row: bit j of codes[i*l+t] is set when p[i*ldp+t*k+j] > 0.
func (be *Backend) SignPack(m, k, l int, p []float32, ldp int, codes []uint32) {
	checkSignPack(m, k, l, len(p), ldp, len(codes))
	if m == 0 || l == 0 {
		return
	}
	must("SignPack", be.do(func() error {
		dp, err := be.scratchPtr(slotA, int64(m*k*l)*4)
		if err != nil {
			return err
		}
		dc, err := be.scratchPtr(slotOut, int64(m*l)*4)
		if err != nil {
			return err
		}
		if err := upload(dp, p, m, k*l, ldp); err != nil {
			return err
		}
		if err := be.signPackDev(m, k, l, dp, k*l, dc); err != nil {
			return err
		}
		return downloadU32(codes[:m*l], dc)
	}))
}

func downloadF64(dst []float64, src cu.DevicePtr) error {
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, int64(len(dst))*8); err != nil {
		return fmt.Errorf("cuda: copy from device (%d float64): %w", len(dst), err)
	}
	return nil
}

func downloadU32(dst []uint32, src cu.DevicePtr) error {
	if err := cu.MemcpyDtoH(unsafe.Pointer(&dst[0]), src, int64(len(dst))*4); err != nil {
		return fmt.Errorf("cuda: copy from device (%d uint32): %w", len(dst), err)
	}
	return nil
}
