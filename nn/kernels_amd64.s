//go:build amd64 && !purego

// AVX2+FMA float32 kernels of the MLP engine. See kernels.go for what each computes and
// kernels_amd64.go for the Go declarations. All strides are in elements.

#include "textflag.h"

// Constants, 8 copies each (one YMM vector).
DATA kc<>+0(SB)/4, $0x3f800000
DATA kc<>+4(SB)/4, $0x3f800000
DATA kc<>+8(SB)/4, $0x3f800000
DATA kc<>+12(SB)/4, $0x3f800000
DATA kc<>+16(SB)/4, $0x3f800000
DATA kc<>+20(SB)/4, $0x3f800000
DATA kc<>+24(SB)/4, $0x3f800000
DATA kc<>+28(SB)/4, $0x3f800000
DATA kc<>+32(SB)/4, $0x3f68b439
DATA kc<>+36(SB)/4, $0x3f68b439
DATA kc<>+40(SB)/4, $0x3f68b439
DATA kc<>+44(SB)/4, $0x3f68b439
DATA kc<>+48(SB)/4, $0x3f68b439
DATA kc<>+52(SB)/4, $0x3f68b439
DATA kc<>+56(SB)/4, $0x3f68b439
DATA kc<>+60(SB)/4, $0x3f68b439
DATA kc<>+64(SB)/4, $0x4b40007f
DATA kc<>+68(SB)/4, $0x4b40007f
DATA kc<>+72(SB)/4, $0x4b40007f
DATA kc<>+76(SB)/4, $0x4b40007f
DATA kc<>+80(SB)/4, $0x4b40007f
DATA kc<>+84(SB)/4, $0x4b40007f
DATA kc<>+88(SB)/4, $0x4b40007f
DATA kc<>+92(SB)/4, $0x4b40007f
DATA kc<>+96(SB)/4, $0xbfb8aa3b
DATA kc<>+100(SB)/4, $0xbfb8aa3b
DATA kc<>+104(SB)/4, $0xbfb8aa3b
DATA kc<>+108(SB)/4, $0xbfb8aa3b
DATA kc<>+112(SB)/4, $0xbfb8aa3b
DATA kc<>+116(SB)/4, $0xbfb8aa3b
DATA kc<>+120(SB)/4, $0xbfb8aa3b
DATA kc<>+124(SB)/4, $0xbfb8aa3b
DATA kc<>+128(SB)/4, $0x3f317200
DATA kc<>+132(SB)/4, $0x3f317200
DATA kc<>+136(SB)/4, $0x3f317200
DATA kc<>+140(SB)/4, $0x3f317200
DATA kc<>+144(SB)/4, $0x3f317200
DATA kc<>+148(SB)/4, $0x3f317200
DATA kc<>+152(SB)/4, $0x3f317200
DATA kc<>+156(SB)/4, $0x3f317200
DATA kc<>+160(SB)/4, $0x35bfbe8e
DATA kc<>+164(SB)/4, $0x35bfbe8e
DATA kc<>+168(SB)/4, $0x35bfbe8e
DATA kc<>+172(SB)/4, $0x35bfbe8e
DATA kc<>+176(SB)/4, $0x35bfbe8e
DATA kc<>+180(SB)/4, $0x35bfbe8e
DATA kc<>+184(SB)/4, $0x35bfbe8e
DATA kc<>+188(SB)/4, $0x35bfbe8e
DATA kc<>+192(SB)/4, $0xbc07cfce
DATA kc<>+196(SB)/4, $0xbc07cfce
DATA kc<>+200(SB)/4, $0xbc07cfce
DATA kc<>+204(SB)/4, $0xbc07cfce
DATA kc<>+208(SB)/4, $0xbc07cfce
DATA kc<>+212(SB)/4, $0xbc07cfce
DATA kc<>+216(SB)/4, $0xbc07cfce
DATA kc<>+220(SB)/4, $0xbc07cfce
DATA kc<>+224(SB)/4, $0x3d2b9d0d
DATA kc<>+228(SB)/4, $0x3d2b9d0d
DATA kc<>+232(SB)/4, $0x3d2b9d0d
DATA kc<>+236(SB)/4, $0x3d2b9d0d
DATA kc<>+240(SB)/4, $0x3d2b9d0d
DATA kc<>+244(SB)/4, $0x3d2b9d0d
DATA kc<>+248(SB)/4, $0x3d2b9d0d
DATA kc<>+252(SB)/4, $0x3d2b9d0d
DATA kc<>+256(SB)/4, $0xbe2aad40
DATA kc<>+260(SB)/4, $0xbe2aad40
DATA kc<>+264(SB)/4, $0xbe2aad40
DATA kc<>+268(SB)/4, $0xbe2aad40
DATA kc<>+272(SB)/4, $0xbe2aad40
DATA kc<>+276(SB)/4, $0xbe2aad40
DATA kc<>+280(SB)/4, $0xbe2aad40
DATA kc<>+284(SB)/4, $0xbe2aad40
DATA kc<>+288(SB)/4, $0x3efffee3
DATA kc<>+292(SB)/4, $0x3efffee3
DATA kc<>+296(SB)/4, $0x3efffee3
DATA kc<>+300(SB)/4, $0x3efffee3
DATA kc<>+304(SB)/4, $0x3efffee3
DATA kc<>+308(SB)/4, $0x3efffee3
DATA kc<>+312(SB)/4, $0x3efffee3
DATA kc<>+316(SB)/4, $0x3efffee3
DATA kc<>+320(SB)/4, $0xbf7ffffb
DATA kc<>+324(SB)/4, $0xbf7ffffb
DATA kc<>+328(SB)/4, $0xbf7ffffb
DATA kc<>+332(SB)/4, $0xbf7ffffb
DATA kc<>+336(SB)/4, $0xbf7ffffb
DATA kc<>+340(SB)/4, $0xbf7ffffb
DATA kc<>+344(SB)/4, $0xbf7ffffb
DATA kc<>+348(SB)/4, $0xbf7ffffb
DATA kc<>+352(SB)/4, $0xc2b00000
DATA kc<>+356(SB)/4, $0xc2b00000
DATA kc<>+360(SB)/4, $0xc2b00000
DATA kc<>+364(SB)/4, $0xc2b00000
DATA kc<>+368(SB)/4, $0xc2b00000
DATA kc<>+372(SB)/4, $0xc2b00000
DATA kc<>+376(SB)/4, $0xc2b00000
DATA kc<>+380(SB)/4, $0xc2b00000
DATA kc<>+384(SB)/4, $0x42ae0000
DATA kc<>+388(SB)/4, $0x42ae0000
DATA kc<>+392(SB)/4, $0x42ae0000
DATA kc<>+396(SB)/4, $0x42ae0000
DATA kc<>+400(SB)/4, $0x42ae0000
DATA kc<>+404(SB)/4, $0x42ae0000
DATA kc<>+408(SB)/4, $0x42ae0000
DATA kc<>+412(SB)/4, $0x42ae0000
DATA kc<>+416(SB)/4, $0x40fcf84f
DATA kc<>+420(SB)/4, $0x40fcf84f
DATA kc<>+424(SB)/4, $0x40fcf84f
DATA kc<>+428(SB)/4, $0x40fcf84f
DATA kc<>+432(SB)/4, $0x40fcf84f
DATA kc<>+436(SB)/4, $0x40fcf84f
DATA kc<>+440(SB)/4, $0x40fcf84f
DATA kc<>+444(SB)/4, $0x40fcf84f
DATA kc<>+448(SB)/4, $0xc0fcf84f
DATA kc<>+452(SB)/4, $0xc0fcf84f
DATA kc<>+456(SB)/4, $0xc0fcf84f
DATA kc<>+460(SB)/4, $0xc0fcf84f
DATA kc<>+464(SB)/4, $0xc0fcf84f
DATA kc<>+468(SB)/4, $0xc0fcf84f
DATA kc<>+472(SB)/4, $0xc0fcf84f
DATA kc<>+476(SB)/4, $0xc0fcf84f
DATA kc<>+480(SB)/4, $0xa59f25c0
DATA kc<>+484(SB)/4, $0xa59f25c0
DATA kc<>+488(SB)/4, $0xa59f25c0
DATA kc<>+492(SB)/4, $0xa59f25c0
DATA kc<>+496(SB)/4, $0xa59f25c0
DATA kc<>+500(SB)/4, $0xa59f25c0
DATA kc<>+504(SB)/4, $0xa59f25c0
DATA kc<>+508(SB)/4, $0xa59f25c0
DATA kc<>+512(SB)/4, $0x2a61337e
DATA kc<>+516(SB)/4, $0x2a61337e
DATA kc<>+520(SB)/4, $0x2a61337e
DATA kc<>+524(SB)/4, $0x2a61337e
DATA kc<>+528(SB)/4, $0x2a61337e
DATA kc<>+532(SB)/4, $0x2a61337e
DATA kc<>+536(SB)/4, $0x2a61337e
DATA kc<>+540(SB)/4, $0x2a61337e
DATA kc<>+544(SB)/4, $0xaebd37ff
DATA kc<>+548(SB)/4, $0xaebd37ff
DATA kc<>+552(SB)/4, $0xaebd37ff
DATA kc<>+556(SB)/4, $0xaebd37ff
DATA kc<>+560(SB)/4, $0xaebd37ff
DATA kc<>+564(SB)/4, $0xaebd37ff
DATA kc<>+568(SB)/4, $0xaebd37ff
DATA kc<>+572(SB)/4, $0xaebd37ff
DATA kc<>+576(SB)/4, $0x335c0041
DATA kc<>+580(SB)/4, $0x335c0041
DATA kc<>+584(SB)/4, $0x335c0041
DATA kc<>+588(SB)/4, $0x335c0041
DATA kc<>+592(SB)/4, $0x335c0041
DATA kc<>+596(SB)/4, $0x335c0041
DATA kc<>+600(SB)/4, $0x335c0041
DATA kc<>+604(SB)/4, $0x335c0041
DATA kc<>+608(SB)/4, $0x3779434a
DATA kc<>+612(SB)/4, $0x3779434a
DATA kc<>+616(SB)/4, $0x3779434a
DATA kc<>+620(SB)/4, $0x3779434a
DATA kc<>+624(SB)/4, $0x3779434a
DATA kc<>+628(SB)/4, $0x3779434a
DATA kc<>+632(SB)/4, $0x3779434a
DATA kc<>+636(SB)/4, $0x3779434a
DATA kc<>+640(SB)/4, $0x3a270ded
DATA kc<>+644(SB)/4, $0x3a270ded
DATA kc<>+648(SB)/4, $0x3a270ded
DATA kc<>+652(SB)/4, $0x3a270ded
DATA kc<>+656(SB)/4, $0x3a270ded
DATA kc<>+660(SB)/4, $0x3a270ded
DATA kc<>+664(SB)/4, $0x3a270ded
DATA kc<>+668(SB)/4, $0x3a270ded
DATA kc<>+672(SB)/4, $0x3ba059dc
DATA kc<>+676(SB)/4, $0x3ba059dc
DATA kc<>+680(SB)/4, $0x3ba059dc
DATA kc<>+684(SB)/4, $0x3ba059dc
DATA kc<>+688(SB)/4, $0x3ba059dc
DATA kc<>+692(SB)/4, $0x3ba059dc
DATA kc<>+696(SB)/4, $0x3ba059dc
DATA kc<>+700(SB)/4, $0x3ba059dc
DATA kc<>+704(SB)/4, $0x35a0d3d8
DATA kc<>+708(SB)/4, $0x35a0d3d8
DATA kc<>+712(SB)/4, $0x35a0d3d8
DATA kc<>+716(SB)/4, $0x35a0d3d8
DATA kc<>+720(SB)/4, $0x35a0d3d8
DATA kc<>+724(SB)/4, $0x35a0d3d8
DATA kc<>+728(SB)/4, $0x35a0d3d8
DATA kc<>+732(SB)/4, $0x35a0d3d8
DATA kc<>+736(SB)/4, $0x38f895d6
DATA kc<>+740(SB)/4, $0x38f895d6
DATA kc<>+744(SB)/4, $0x38f895d6
DATA kc<>+748(SB)/4, $0x38f895d6
DATA kc<>+752(SB)/4, $0x38f895d6
DATA kc<>+756(SB)/4, $0x38f895d6
DATA kc<>+760(SB)/4, $0x38f895d6
DATA kc<>+764(SB)/4, $0x38f895d6
DATA kc<>+768(SB)/4, $0x3b14aa05
DATA kc<>+772(SB)/4, $0x3b14aa05
DATA kc<>+776(SB)/4, $0x3b14aa05
DATA kc<>+780(SB)/4, $0x3b14aa05
DATA kc<>+784(SB)/4, $0x3b14aa05
DATA kc<>+788(SB)/4, $0x3b14aa05
DATA kc<>+792(SB)/4, $0x3b14aa05
DATA kc<>+796(SB)/4, $0x3b14aa05
DATA kc<>+800(SB)/4, $0x3ba059dd
DATA kc<>+804(SB)/4, $0x3ba059dd
DATA kc<>+808(SB)/4, $0x3ba059dd
DATA kc<>+812(SB)/4, $0x3ba059dd
DATA kc<>+816(SB)/4, $0x3ba059dd
DATA kc<>+820(SB)/4, $0x3ba059dd
DATA kc<>+824(SB)/4, $0x3ba059dd
DATA kc<>+828(SB)/4, $0x3ba059dd
GLOBL kc<>(SB), RODATA|NOPTR, $832

#define ONE kc<>+0(SB) // 1
#define LIPC kc<>+32(SB) // 0.909
#define MAGIC kc<>+64(SB) // 0x1.8000FEp23
#define NLOG2E kc<>+96(SB) // -0x1.715476p0
#define LN2HI kc<>+128(SB) // 0x1.62E400p-1
#define LN2LO kc<>+160(SB) // 0x1.7F7D1Cp-20
#define EC5 kc<>+192(SB) // -0x1.0F9F9Cp-7
#define EC4 kc<>+224(SB) // 0x1.573A1Ap-5
#define EC3 kc<>+256(SB) // -0x1.555A80p-3
#define EC2 kc<>+288(SB) // 0x1.FFFDC6p-2
#define EC1 kc<>+320(SB) // -0x1.FFFFF6p-1
#define SIGLO kc<>+352(SB) // -88
#define SIGHI kc<>+384(SB) // 87
#define TANHHI kc<>+416(SB) // 7.90531110763549805
#define TANHLO kc<>+448(SB) // -7.90531110763549805
#define TA13 kc<>+480(SB) // -2.76076847742355e-16
#define TA11 kc<>+512(SB) // 2.00018790482477e-13
#define TA9 kc<>+544(SB) // -8.60467152213735e-11
#define TA7 kc<>+576(SB) // 5.12229709037114e-08
#define TA5 kc<>+608(SB) // 1.48572235717979e-05
#define TA3 kc<>+640(SB) // 6.37261928875436e-04
#define TA1 kc<>+672(SB) // 4.89352455891786e-03
#define TB6 kc<>+704(SB) // 1.19825839466702e-06
#define TB4 kc<>+736(SB) // 1.18534705686654e-04
#define TB2 kc<>+768(SB) // 2.26843463243900e-03
#define TB0 kc<>+800(SB) // 4.89352518554385e-03

// func cpuid(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL eaxArg+0(FP), AX
	MOVL ecxArg+4(FP), CX
	CPUID
	MOVL AX, eax+8(FP)
	MOVL BX, ebx+12(FP)
	MOVL CX, ecx+16(FP)
	MOVL DX, edx+20(FP)
	RET

// func xgetbv() (eax, edx uint32)
TEXT ·xgetbv(SB), NOSPLIT, $0-8
	MOVL $0, CX
	XGETBV
	MOVL AX, eax+0(FP)
	MOVL DX, edx+4(FP)
	RET

// func gemmF32(w, b, x *float32, xs, kin int, out *float32, os int, mul *float32, ms, rowTiles, pathTiles, flags int)
//
// Tiles of 4 output rows × 16 paths in Y0..Y7 (row r: Y(2r) paths 0-7, Y(2r+1) paths 8-15).
// Path tiles outer, row tiles inner, so the 16-path slice of x stays in L1 across rows.
// flags: 1 init from bias, 2 init from out, 0 zero; 4 multiply by mul before storing.
TEXT ·gemmF32(SB), NOSPLIT, $0-96
	MOVQ x+16(FP), AX
	MOVQ xs+24(FP), R9
	SHLQ $2, R9
	MOVQ out+40(FP), R14
	MOVQ os+48(FP), R11
	SHLQ $2, R11
	MOVQ ms+64(FP), R13
	SHLQ $2, R13
	MOVQ pathTiles+80(FP), CX
	TESTQ CX, CX
	JZ gemm_done

gemm_pt:
	MOVQ w+0(FP), R8
	MOVQ b+8(FP), BX
	MOVQ R14, DI
	MOVQ mul+56(FP), R12
	ADDQ AX, R12
	SUBQ x+16(FP), R12
	MOVQ rowTiles+72(FP), DX

gemm_rt:
	MOVQ flags+88(FP), R10
	TESTQ $1, R10
	JNZ gemm_init_bias
	TESTQ $2, R10
	JNZ gemm_init_acc
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	JMP gemm_init_done

gemm_init_bias:
	VBROADCASTSS (BX), Y0
	VMOVAPS Y0, Y1
	VBROADCASTSS 4(BX), Y2
	VMOVAPS Y2, Y3
	VBROADCASTSS 8(BX), Y4
	VMOVAPS Y4, Y5
	VBROADCASTSS 12(BX), Y6
	VMOVAPS Y6, Y7
	JMP gemm_init_done

gemm_init_acc:
	LEAQ (DI)(R11*2), R10
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS (DI)(R11*1), Y2
	VMOVUPS 32(DI)(R11*1), Y3
	VMOVUPS (R10), Y4
	VMOVUPS 32(R10), Y5
	VMOVUPS (R10)(R11*1), Y6
	VMOVUPS 32(R10)(R11*1), Y7

gemm_init_done:
	MOVQ AX, SI
	MOVQ kin+32(FP), R10
	TESTQ R10, R10
	JZ gemm_k_done

gemm_k:
	VMOVUPS (SI), Y8
	VMOVUPS 32(SI), Y9
	VBROADCASTSS (R8), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS 4(R8), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS 8(R8), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS 12(R8), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ R9, SI
	ADDQ $16, R8
	DECQ R10
	JNZ gemm_k

gemm_k_done:
	MOVQ flags+88(FP), R10
	TESTQ $4, R10
	JZ gemm_store
	LEAQ (R12)(R13*2), R10
	VMULPS (R12), Y0, Y0
	VMULPS 32(R12), Y1, Y1
	VMULPS (R12)(R13*1), Y2, Y2
	VMULPS 32(R12)(R13*1), Y3, Y3
	VMULPS (R10), Y4, Y4
	VMULPS 32(R10), Y5, Y5
	VMULPS (R10)(R13*1), Y6, Y6
	VMULPS 32(R10)(R13*1), Y7, Y7

gemm_store:
	LEAQ (DI)(R11*2), R10
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, (DI)(R11*1)
	VMOVUPS Y3, 32(DI)(R11*1)
	VMOVUPS Y4, (R10)
	VMOVUPS Y5, 32(R10)
	VMOVUPS Y6, (R10)(R11*1)
	VMOVUPS Y7, 32(R10)(R11*1)
	LEAQ (DI)(R11*4), DI
	LEAQ (R12)(R13*4), R12
	ADDQ $16, BX
	DECQ DX
	JNZ gemm_rt

	ADDQ $64, AX
	ADDQ $64, R14
	DECQ CX
	JNZ gemm_pt

gemm_done:
	VZEROUPPER
	RET

// func dwF32(dz *float32, dzs, rowTiles int, xrows *uintptr, npairs, n8 int, out *float32)
//
// For each tile of 4 dz rows × 2 input rows: 8 lane-wise accumulators over the paths,
// reduced by a horizontal-add tree to one vector [r0k0 r0k1 r1k0 r1k1 r2k0 r2k1 r3k0 r3k1]
// that is added to out.
TEXT ·dwF32(SB), NOSPLIT, $0-56
	MOVQ dz+0(FP), R8
	MOVQ dzs+8(FP), R9
	SHLQ $2, R9
	MOVQ out+48(FP), DI
	MOVQ n8+40(FP), BX
	SHLQ $5, BX
	MOVQ rowTiles+16(FP), CX
	TESTQ CX, CX
	JZ dw_done

dw_rt:
	LEAQ (R8)(R9*1), R13
	LEAQ (R8)(R9*2), R10
	LEAQ (R10)(R9*1), R14
	MOVQ xrows+24(FP), SI
	MOVQ npairs+32(FP), DX
	TESTQ DX, DX
	JZ dw_rt_next

dw_pair:
	MOVQ 0(SI), R11
	MOVQ 8(SI), R12
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	XORQ AX, AX
	TESTQ BX, BX
	JZ dw_sum

dw_p:
	VMOVUPS (R11)(AX*1), Y8
	VMOVUPS (R12)(AX*1), Y9
	VMOVUPS (R8)(AX*1), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VMOVUPS (R13)(AX*1), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VMOVUPS (R10)(AX*1), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VMOVUPS (R14)(AX*1), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $32, AX
	CMPQ AX, BX
	JLT dw_p

dw_sum:
	VHADDPS Y1, Y0, Y0
	VHADDPS Y3, Y2, Y2
	VHADDPS Y5, Y4, Y4
	VHADDPS Y7, Y6, Y6
	VHADDPS Y2, Y0, Y0
	VHADDPS Y6, Y4, Y4
	VPERM2F128 $0x20, Y4, Y0, Y1
	VPERM2F128 $0x31, Y4, Y0, Y2
	VADDPS Y2, Y1, Y0
	VADDPS (DI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $16, SI
	DECQ DX
	JNZ dw_pair

dw_rt_next:
	LEAQ (R8)(R9*4), R8
	DECQ CX
	JNZ dw_rt

dw_done:
	VZEROUPPER
	RET

// Fast e^(−x) of Y0 clamped (Y9 = lower clamp, Y8 = upper clamp) into Y3, then
// sigmoid(x) = 1/(1+e^(−x)) into Y6. Uses Y1..Y7; needs Y14 = 1, Y13 = magic,
// Y12 = −log2 e, Y11 = ln2 hi, Y10 = ln2 lo.
#define SIGMOID_Y0_TO_Y6 \
	VMAXPS Y0, Y9, Y1 \
	VMINPS Y1, Y8, Y1 \
	VMOVAPS Y13, Y2 \
	VFMADD231PS Y12, Y1, Y2 \
	VPSLLD $23, Y2, Y3 \
	VSUBPS Y13, Y2, Y2 \
	VFMADD231PS Y11, Y2, Y1 \
	VFMADD231PS Y10, Y2, Y1 \
	VMOVUPS EC5, Y4 \
	VFMADD213PS EC4, Y1, Y4 \
	VFMADD213PS EC3, Y1, Y4 \
	VFMADD213PS EC2, Y1, Y4 \
	VFMADD213PS EC1, Y1, Y4 \
	VMULPS Y3, Y1, Y1 \
	VFMADD231PS Y4, Y1, Y3 \
	VADDPS Y14, Y3, Y5 \
	VRCPPS Y5, Y6 \
	VMOVAPS Y14, Y7 \
	VFNMADD231PS Y6, Y5, Y7 \
	VFMADD231PS Y7, Y6, Y6

#define SIGMOID_CONSTS \
	VMOVUPS ONE, Y14 \
	VMOVUPS MAGIC, Y13 \
	VMOVUPS NLOG2E, Y12 \
	VMOVUPS LN2HI, Y11 \
	VMOVUPS LN2LO, Y10 \
	VMOVUPS SIGLO, Y9 \
	VMOVUPS SIGHI, Y8

// func lipswishF32(z, d *float32, n int)
// z ← h = 0.909·z·σ(z); d ← h' = σ·(0.909 + h·e^(−z)) when d != nil. n is a multiple of 8.
TEXT ·lipswishF32(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ lip_done
	SIGMOID_CONSTS
	VMOVUPS LIPC, Y15

lip_loop:
	VMOVUPS (SI), Y0
	SIGMOID_Y0_TO_Y6
	VMULPS Y15, Y0, Y0
	VMULPS Y6, Y0, Y0
	VMOVUPS Y0, (SI)
	TESTQ DI, DI
	JZ lip_next
	VMOVAPS Y15, Y7
	VFMADD231PS Y3, Y0, Y7
	VMULPS Y6, Y7, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, DI

lip_next:
	ADDQ $32, SI
	DECQ CX
	JNZ lip_loop

lip_done:
	VZEROUPPER
	RET

// func sigmoidF32(z, d *float32, n int)
TEXT ·sigmoidF32(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ sig_done
	SIGMOID_CONSTS

sig_loop:
	VMOVUPS (SI), Y0
	SIGMOID_Y0_TO_Y6
	VMOVUPS Y6, (SI)
	TESTQ DI, DI
	JZ sig_next
	VMOVAPS Y6, Y7
	VFNMADD231PS Y6, Y6, Y7
	VMOVUPS Y7, (DI)
	ADDQ $32, DI

sig_next:
	ADDQ $32, SI
	DECQ CX
	JNZ sig_loop

sig_done:
	VZEROUPPER
	RET

// func tanhF32(z, d *float32, n int)
// Eigen's rational approximation p(x)/q(x) on the clamped range; d ← 1 − tanh².
TEXT ·tanhF32(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ tanh_done
	VMOVUPS ONE, Y15
	VMOVUPS TANHHI, Y14
	VMOVUPS TANHLO, Y13

tanh_loop:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y13, Y0
	VMINPS Y0, Y14, Y0
	VMULPS Y0, Y0, Y1
	VMOVUPS TA13, Y2
	VFMADD213PS TA11, Y1, Y2
	VFMADD213PS TA9, Y1, Y2
	VFMADD213PS TA7, Y1, Y2
	VFMADD213PS TA5, Y1, Y2
	VFMADD213PS TA3, Y1, Y2
	VFMADD213PS TA1, Y1, Y2
	VMULPS Y0, Y2, Y2
	VMOVUPS TB6, Y3
	VFMADD213PS TB4, Y1, Y3
	VFMADD213PS TB2, Y1, Y3
	VFMADD213PS TB0, Y1, Y3
	VRCPPS Y3, Y4
	VMOVAPS Y15, Y5
	VFNMADD231PS Y4, Y3, Y5
	VFMADD231PS Y5, Y4, Y4
	VMULPS Y4, Y2, Y2
	VMOVUPS Y2, (SI)
	TESTQ DI, DI
	JZ tanh_next
	VMOVAPS Y15, Y6
	VFNMADD231PS Y2, Y2, Y6
	VMOVUPS Y6, (DI)
	ADDQ $32, DI

tanh_next:
	ADDQ $32, SI
	DECQ CX
	JNZ tanh_loop

tanh_done:
	VZEROUPPER
	RET

// func reluF32(z, d *float32, n int)
TEXT ·reluF32(SB), NOSPLIT, $0-24
	MOVQ z+0(FP), SI
	MOVQ d+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ relu_done
	VXORPS Y15, Y15, Y15
	VMOVUPS ONE, Y14

relu_loop:
	VMOVUPS (SI), Y0
	VMAXPS Y0, Y15, Y1
	VMOVUPS Y1, (SI)
	TESTQ DI, DI
	JZ relu_next
	VCMPPS $0x0e, Y15, Y0, Y2
	VANDPS Y14, Y2, Y2
	VMOVUPS Y2, (DI)
	ADDQ $32, DI

relu_next:
	ADDQ $32, SI
	DECQ CX
	JNZ relu_loop

relu_done:
	VZEROUPPER
	RET

// func mulF32(dst, a *float32, n int)
// dst ← dst·a elementwise; n is a multiple of 8.
TEXT ·mulF32(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ n+16(FP), CX
	SHRQ $3, CX
	JZ mul_done

mul_loop:
	VMOVUPS (DI), Y0
	VMULPS (SI), Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	ADDQ $32, SI
	DECQ CX
	JNZ mul_loop

mul_done:
	VZEROUPPER
	RET

// func transposeF32(src *float32, ss int, dst *float32, ds int, nbr, nbc int, add int)
//
// 8×8 blocks: block (bi, bj) of src (rows 8bi.., columns 8bj..) goes transposed to
// dst rows 8bj.., columns 8bi.. (added to it when add != 0).
TEXT ·transposeF32(SB), NOSPLIT, $0-56
	MOVQ src+0(FP), AX
	MOVQ ss+8(FP), R9
	SHLQ $2, R9
	LEAQ (R9)(R9*2), R10
	MOVQ dst+16(FP), BX
	MOVQ ds+24(FP), R12
	SHLQ $2, R12
	LEAQ (R12)(R12*2), R13
	MOVQ nbr+32(FP), CX
	TESTQ CX, CX
	JZ tr_done

tr_bi:
	MOVQ AX, SI
	MOVQ BX, DI
	MOVQ nbc+40(FP), DX
	TESTQ DX, DX
	JZ tr_bi_next

tr_bj:
	LEAQ (SI)(R9*4), R11
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R9*1), Y1
	VMOVUPS (SI)(R9*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(R9*1), Y5
	VMOVUPS (R11)(R9*2), Y6
	VMOVUPS (R11)(R10*1), Y7
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15
	LEAQ (DI)(R12*4), R14
	CMPQ add+48(FP), $0
	JEQ tr_store
	VADDPS (DI), Y8, Y8
	VADDPS (DI)(R12*1), Y9, Y9
	VADDPS (DI)(R12*2), Y10, Y10
	VADDPS (DI)(R13*1), Y11, Y11
	VADDPS (R14), Y12, Y12
	VADDPS (R14)(R12*1), Y13, Y13
	VADDPS (R14)(R12*2), Y14, Y14
	VADDPS (R14)(R13*1), Y15, Y15

tr_store:
	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R12*1)
	VMOVUPS Y10, (DI)(R12*2)
	VMOVUPS Y11, (DI)(R13*1)
	VMOVUPS Y12, (R14)
	VMOVUPS Y13, (R14)(R12*1)
	VMOVUPS Y14, (R14)(R12*2)
	VMOVUPS Y15, (R14)(R13*1)
	ADDQ $32, SI
	LEAQ (R14)(R12*4), DI
	DECQ DX
	JNZ tr_bj

tr_bi_next:
	LEAQ (AX)(R9*8), AX
	ADDQ $32, BX
	DECQ CX
	JNZ tr_bi

tr_done:
	VZEROUPPER
	RET
