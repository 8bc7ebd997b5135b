//go:build !noasm && !purego && gc

#include "textflag.h"

// func reluAVX2(x, y []float32)
//
// y = max(0, x) + 0: VMAXPS returns its second source (x) when the compare
// 0 > x is false, so a NaN x passes through; adding +0 turns −0 into +0
// and leaves every other value (NaN included) unchanged, which is Go's
// max(x, 0).
TEXT ·reluAVX2(SB), NOSPLIT, $0-48
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0

relu32:
	CMPQ    CX, $32
	JLT     relu8
	VMAXPS  0(SI), Y0, Y1
	VMAXPS  32(SI), Y0, Y2
	VMAXPS  64(SI), Y0, Y3
	VMAXPS  96(SI), Y0, Y4
	VADDPS  Y0, Y1, Y1
	VADDPS  Y0, Y2, Y2
	VADDPS  Y0, Y3, Y3
	VADDPS  Y0, Y4, Y4
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     relu32

relu8:
	CMPQ    CX, $8
	JLT     relu1
	VMAXPS  (SI), Y0, Y1
	VADDPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     relu8

relu1:
	TESTQ  CX, CX
	JZ     reludone
	VMOVSS (SI), X1
	VMAXSS X1, X0, X1
	VADDSS X0, X1, X1
	VMOVSS X1, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    relu1

reludone:
	VZEROUPPER
	RET

// func reluMaskAVX2(h, g []float32)
//
// mask = (h != 0) with the unordered predicate NEQ_UQ (4), so a NaN h
// keeps g; g &= mask.
TEXT ·reluMaskAVX2(SB), NOSPLIT, $0-48
	MOVQ   h_base+0(FP), SI
	MOVQ   h_len+8(FP), CX
	MOVQ   g_base+24(FP), DI
	VXORPS Y0, Y0, Y0

mask32:
	CMPQ    CX, $32
	JLT     mask8
	VCMPPS  $4, 0(SI), Y0, Y1
	VCMPPS  $4, 32(SI), Y0, Y2
	VCMPPS  $4, 64(SI), Y0, Y3
	VCMPPS  $4, 96(SI), Y0, Y4
	VANDPS  0(DI), Y1, Y1
	VANDPS  32(DI), Y2, Y2
	VANDPS  64(DI), Y3, Y3
	VANDPS  96(DI), Y4, Y4
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	VMOVUPS Y3, 64(DI)
	VMOVUPS Y4, 96(DI)
	ADDQ    $128, SI
	ADDQ    $128, DI
	SUBQ    $32, CX
	JMP     mask32

mask8:
	CMPQ    CX, $8
	JLT     mask1
	VCMPPS  $4, (SI), Y0, Y1
	VANDPS  (DI), Y1, Y1
	VMOVUPS Y1, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     mask8

mask1:
	TESTQ  CX, CX
	JZ     maskdone
	VMOVSS (SI), X1
	VCMPSS $4, X1, X0, X1
	VMOVSS (DI), X2
	VANDPS X2, X1, X1
	VMOVSS X1, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    mask1

maskdone:
	VZEROUPPER
	RET
