//go:build !noasm && !purego && gc

#include "textflag.h"

// Registers: AX row 0, R8 row 3, BX lda in bytes (rows 0..5 are AX, AX+BX,
// AX+2BX, R8, AX+4BX, R8+2BX), DI panel, CX columns left, Y15 alpha.
//
// func packA6AVX2(kb int, a *float32, lda int, alpha float32, panel *float32)
TEXT ·packA6AVX2(SB), NOSPLIT, $0-40
	MOVQ kb+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ lda+16(FP), BX
	SHLQ $2, BX
	LEAQ (AX)(BX*2), R8
	ADDQ BX, R8
	VBROADCASTSS alpha+24(FP), Y15
	MOVQ panel+32(FP), DI

loop8:
	CMPQ CX, $8
	JLT  tail
	VMULPS (AX), Y15, Y0
	VMULPS (AX)(BX*1), Y15, Y1
	VMULPS (AX)(BX*2), Y15, Y2
	VMULPS (R8), Y15, Y3
	VMULPS (AX)(BX*4), Y15, Y4
	VMULPS (R8)(BX*2), Y15, Y5

	// t0..t5: row pairs interleaved within each 128-bit lane.
	VUNPCKLPS Y1, Y0, Y6  // r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5]
	VUNPCKHPS Y1, Y0, Y7  // r0[2] r1[2] r0[3] r1[3] | r0[6] ...
	VUNPCKLPS Y3, Y2, Y8  // r2, r3 likewise
	VUNPCKHPS Y3, Y2, Y9
	VUNPCKLPS Y5, Y4, Y10 // r4[0] r5[0] r4[1] r5[1] | r4[4] r5[4] r4[5] r5[5]
	VUNPCKHPS Y5, Y4, Y11 // r4[2] r5[2] r4[3] r5[3] | r4[6] ...

	// s0..s3: rows 0..3 of columns (0|4), (1|5), (2|6), (3|7); rows 4, 5
	// of columns 1, 3 (|5, 7) moved to the bottom of their lanes.
	VSHUFPS $0x44, Y8, Y6, Y0
	VSHUFPS $0xEE, Y8, Y6, Y1
	VSHUFPS $0x44, Y9, Y7, Y2
	VSHUFPS $0xEE, Y9, Y7, Y3
	VSHUFPS $0xEE, Y10, Y10, Y12
	VSHUFPS $0xEE, Y11, Y11, Y13

	// Column c = rows 0..3 (low half) then rows 4, 5 and two junk lanes.
	VPERM2F128 $0x20, Y10, Y0, Y4 // column 0
	VPERM2F128 $0x31, Y10, Y0, Y5 // column 4
	VMOVUPS    Y4, 0(DI)
	VPERM2F128 $0x20, Y12, Y1, Y6 // column 1
	VPERM2F128 $0x31, Y12, Y1, Y7 // column 5
	VMOVUPS    Y6, 24(DI)
	VPERM2F128 $0x20, Y11, Y2, Y8 // column 2
	VPERM2F128 $0x31, Y11, Y2, Y9 // column 6
	VMOVUPS    Y8, 48(DI)
	VPERM2F128 $0x20, Y13, Y3, Y14 // column 3
	VPERM2F128 $0x31, Y13, Y3, Y0  // column 7
	VMOVUPS    Y14, 72(DI)
	VMOVUPS    Y5, 96(DI)
	VMOVUPS    Y7, 120(DI)
	VMOVUPS    Y9, 144(DI)
	VMOVUPS    Y0, 168(DI)

	ADDQ $32, AX
	ADDQ $32, R8
	ADDQ $192, DI
	SUBQ $8, CX
	JMP  loop8

tail:
	TESTQ CX, CX
	JZ    done
	VMULSS (AX), X15, X0
	VMOVSS X0, 0(DI)
	VMULSS (AX)(BX*1), X15, X0
	VMOVSS X0, 4(DI)
	VMULSS (AX)(BX*2), X15, X0
	VMOVSS X0, 8(DI)
	VMULSS (R8), X15, X0
	VMOVSS X0, 12(DI)
	VMULSS (AX)(BX*4), X15, X0
	VMOVSS X0, 16(DI)
	VMULSS (R8)(BX*2), X15, X0
	VMOVSS X0, 20(DI)
	ADDQ $4, AX
	ADDQ $4, R8
	ADDQ $24, DI
	DECQ CX
	JMP  tail

done:
	VZEROUPPER
	RET
