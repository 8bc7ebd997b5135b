//go:build !noasm && !purego && gc

#include "textflag.h"

// func packAT6AVX2(kb int, a *float32, lda int, alpha float32, panel *float32)
TEXT ·packAT6AVX2(SB), NOSPLIT, $0-40
	MOVQ         kb+0(FP), CX
	MOVQ         a+8(FP), SI
	MOVQ         lda+16(FP), DX
	SHLQ         $2, DX
	VBROADCASTSS alpha+24(FP), X2
	MOVQ         panel+32(FP), DI

pair:
	CMPQ    CX, $2
	JLT     single
	VMULPS  (SI), X2, X0
	VMOVSD  16(SI), X1
	VMULPS  X1, X2, X1
	VMULPS  (SI)(DX*1), X2, X3
	VMOVSD  16(SI)(DX*1), X4
	VMULPS  X4, X2, X4
	VMOVUPS X0, (DI)
	VMOVSD  X1, 16(DI)
	VMOVUPS X3, 24(DI)
	VMOVSD  X4, 40(DI)
	LEAQ    (SI)(DX*2), SI
	ADDQ    $48, DI
	SUBQ    $2, CX
	JMP     pair

single:
	TESTQ   CX, CX
	JZ      done
	VMULPS  (SI), X2, X0
	VMOVSD  16(SI), X1
	VMULPS  X1, X2, X1
	VMOVUPS X0, (DI)
	VMOVSD  X1, 16(DI)

done:
	RET
