/* SPDX-License-Identifier: MIT */
/* Guest FPU/SSE/AVX state: saved when a vCPU leaves its CPU, restored when another comes. */
#ifndef ARCH_X86_FPU_H
#define ARCH_X86_FPU_H

#include <lib/types.h>

/* Enables XSAVE on this CPU (CR4.OSXSAVE, OSFXSR); Keel itself never uses these registers. */
void fpu_cpu_init(void);
/* Bytes of state per vCPU (XSAVE area for every feature the CPU has, or 512 for FXSAVE). */
u32 fpu_area_size(void);
/* An area in the architectural init state (FCW 0x37F, MXCSR 0x1F80, XCR0 = x87). */
void fpu_area_init(void *area);
void fpu_save(void *area, u64 *xcr0);
/* The XCR0 bits this CPU supports (CPUID.(EAX=0DH,ECX=0):EDX:EAX), 0 without XSAVE. */
u64 fpu_xcr0_host(void);
/* XSETBV of XCR0 on this CPU: val must pass every check the instruction makes, or it faults here. */
void fpu_set_xcr0(u64 val);
void fpu_restore(const void *area, u64 xcr0);

#endif
