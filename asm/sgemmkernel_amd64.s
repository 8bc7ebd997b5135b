//go:build !noasm && !purego && gc

#include "textflag.h"

// STEP multiplies one column of the packed A panel (six floats at AX+ao)
// by one row of the packed B panel (sixteen floats at BX+bo) into the
// accumulators Y0..Y11 (row i in Y(2i), Y(2i+1)).
#define STEP(ao, bo) \
	VMOVUPS bo(BX), Y12 \
	VMOVUPS bo+32(BX), Y13 \
	VBROADCASTSS ao(AX), Y14 \
	VFMADD231PS Y12, Y14, Y0 \
	VFMADD231PS Y13, Y14, Y1 \
	VBROADCASTSS ao+4(AX), Y15 \
	VFMADD231PS Y12, Y15, Y2 \
	VFMADD231PS Y13, Y15, Y3 \
	VBROADCASTSS ao+8(AX), Y14 \
	VFMADD231PS Y12, Y14, Y4 \
	VFMADD231PS Y13, Y14, Y5 \
	VBROADCASTSS ao+12(AX), Y15 \
	VFMADD231PS Y12, Y15, Y6 \
	VFMADD231PS Y13, Y15, Y7 \
	VBROADCASTSS ao+16(AX), Y14 \
	VFMADD231PS Y12, Y14, Y8 \
	VFMADD231PS Y13, Y14, Y9 \
	VBROADCASTSS ao+20(AX), Y15 \
	VFMADD231PS Y12, Y15, Y10 \
	VFMADD231PS Y13, Y15, Y11

// STORE writes one row of the tile (two ymm) to DI.
#define STORE(lo, hi) \
	VMOVUPS lo, (DI) \
	VMOVUPS hi, 32(DI) \
	ADDQ DX, DI

// UPDATE sets one row of the tile at DI to acc + beta·C (beta in Y12).
#define UPDATE(lo, hi) \
	VFMADD231PS (DI), Y12, lo \
	VFMADD231PS 32(DI), Y12, hi \
	VMOVUPS lo, (DI) \
	VMOVUPS hi, 32(DI) \
	ADDQ DX, DI

// func sgemmKernelAVX2(kc int, a, b, c *float32, ldc int, beta float32)
TEXT ·sgemmKernelAVX2(SB), NOSPLIT, $0-44
	MOVQ kc+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ c+24(FP), DI
	MOVQ ldc+32(FP), DX
	SHLQ $2, DX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop4:
	CMPQ CX, $4
	JLT  loop1
	PREFETCHT0 512(BX)
	STEP(0, 0)
	STEP(24, 64)
	PREFETCHT0 576(BX)
	STEP(48, 128)
	STEP(72, 192)
	ADDQ $96, AX
	ADDQ $256, BX
	SUBQ $4, CX
	JMP  loop4

loop1:
	TESTQ CX, CX
	JZ    update
	STEP(0, 0)
	ADDQ $24, AX
	ADDQ $64, BX
	DECQ CX
	JMP  loop1

update:
	MOVL beta+40(FP), R8
	TESTL $0x7fffffff, R8
	JNZ  accumulate
	STORE(Y0, Y1)
	STORE(Y2, Y3)
	STORE(Y4, Y5)
	STORE(Y6, Y7)
	STORE(Y8, Y9)
	STORE(Y10, Y11)
	VZEROUPPER
	RET

accumulate:
	VBROADCASTSS beta+40(FP), Y12
	UPDATE(Y0, Y1)
	UPDATE(Y2, Y3)
	UPDATE(Y4, Y5)
	UPDATE(Y6, Y7)
	UPDATE(Y8, Y9)
	UPDATE(Y10, Y11)
	VZEROUPPER
	RET
