//go:build !noasm && !purego && gc

#include "textflag.h"

// tailMask holds eight all-ones lanes then eight zero lanes; the eight lanes
// starting at lane 8-r select the first r floats of a masked load.
DATA tailMask<>+0(SB)/8, $0xffffffffffffffff
DATA tailMask<>+8(SB)/8, $0xffffffffffffffff
DATA tailMask<>+16(SB)/8, $0xffffffffffffffff
DATA tailMask<>+24(SB)/8, $0xffffffffffffffff
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// Registers:
//   R8 row start, R9 ldp in bytes, R10 next code, R11 rows left,
//   R12 k·l, R13 k, R14 (1<<k)-1, SI cursor, DX floats left in the row,
//   AX bit queue, BX number of queued bits, Y15 zero.
//
// func signPackAVX2(m, k, l int, p []float32, ldp int, codes []uint32)
TEXT ·signPackAVX2(SB), NOSPLIT, $0-80
	MOVQ m+0(FP), R11
	MOVQ k+8(FP), R13
	MOVQ l+16(FP), R12
	IMULQ R13, R12
	MOVQ p_base+24(FP), R8
	MOVQ ldp+48(FP), R9
	SHLQ $2, R9
	MOVQ codes_base+56(FP), R10
	MOVQ $1, R14
	MOVQ R13, CX
	SHLQ CX, R14
	DECQ R14
	VXORPS Y15, Y15, Y15

row:
	MOVQ R8, SI
	MOVQ R12, DX
	XORQ AX, AX
	XORQ BX, BX

loop8:
	CMPQ DX, $8
	JLT  tail
	VCMPPS $0x11, (SI), Y15, Y0 // 0 < p, ordered, quiet: NaN gives 0
	VMOVMSKPS Y0, DI
	MOVQ BX, CX
	SHLQ CX, DI
	ORQ  DI, AX
	ADDQ $8, BX
	ADDQ $32, SI
	SUBQ $8, DX

emit8:
	CMPQ BX, R13
	JLT  loop8
	MOVQ AX, DI
	ANDQ R14, DI
	MOVL DI, (R10)
	ADDQ $4, R10
	MOVQ R13, CX
	SHRQ CX, AX
	SUBQ R13, BX
	JMP  emit8

tail:
	TESTQ DX, DX
	JZ    nextrow
	LEAQ tailMask<>+32(SB), DI
	MOVQ DX, CX
	SHLQ $2, CX
	SUBQ CX, DI
	VMOVUPS (DI), Y1
	VMASKMOVPS (SI), Y1, Y0
	VCMPPS $0x11, Y0, Y15, Y0
	VMOVMSKPS Y0, DI
	MOVQ BX, CX
	SHLQ CX, DI
	ORQ  DI, AX
	ADDQ DX, BX
	XORQ DX, DX

emittail:
	CMPQ BX, R13
	JLT  nextrow
	MOVQ AX, DI
	ANDQ R14, DI
	MOVL DI, (R10)
	ADDQ $4, R10
	MOVQ R13, CX
	SHRQ CX, AX
	SUBQ R13, BX
	JMP  emittail

nextrow:
	ADDQ R9, R8
	DECQ R11
	JNZ  row
	VZEROUPPER
	RET
