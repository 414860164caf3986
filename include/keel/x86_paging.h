/* SPDX-License-Identifier: MIT */
/* A guest's linear-address translation with every check the CPU makes, for the instruction emulator. */
#ifndef KEEL_X86_PAGING_H
#define KEEL_X86_PAGING_H

#include <arch/x86/x86_vectors.h> /* the exceptions an access raises: #SS, #GP, #PF */
#include <lib/types.h>

/*
 * What an access is. Data accesses are explicit at the vCPU's CPL unless
 * X86_ACC_IMPLICIT says they are the CPU's own supervisor-mode accesses
 * (descriptor tables, the TSS: SDM 3A 4.6), which are supervisor accesses
 * whatever the CPL and are never let through by EFLAGS.AC.
 */
#define X86_ACC_WRITE BIT(0)
#define X86_ACC_FETCH BIT(1)
#define X86_ACC_IMPLICIT BIT(2)

/* The page-fault error code (SDM 3A 4.7, figure 4-12; APM2 8.4.2). */
#define X86_PF_P BIT(0)	   /* 0: a non-present page; 1: a protection or reserved-bit violation */
#define X86_PF_W BIT(1)	   /* a write */
#define X86_PF_U BIT(2)	   /* a user-mode access (CPL 3, not implicit) */
#define X86_PF_RSVD BIT(3) /* a reserved bit set in a paging-structure entry */
#define X86_PF_I BIT(4)	   /* an instruction fetch, when SMEP or PAE with NXE is on */
#define X86_PF_PK BIT(5)   /* the protection-key rights (PKRU, PKRS) refused it */

/* An exception an access raises instead of completing. */
struct x86_fault {
	u8 vector;   /* X86_EXC_PF, X86_EXC_GP or X86_EXC_SS */
	u32 error;   /* its error code (0 for #GP and #SS here) */
	u64 address; /* #PF: the faulting linear address, for CR2 */
};

/* The vCPU state that decides a translation (SDM 3A 4.1.1 and 4.6). */
struct x86_paging {
	u64 cr0, cr3, cr4, efer, rflags;
	u8 cpl;
	u8 maxphyaddr; /* physical-address width, CPUID 8000_0008h EAX[7:0] (SDM 3A 4.1.4) */
	bool pse36;    /* 4-MiB pages map above 4 GiB: CPUID 1 EDX[17] */
	bool gbpages;  /* 1-GiB pages: CPUID 8000_0001h EDX[26] */
	bool amd; /* AMD reserves bit 8 of PML5Es and PML4Es (APM2 5.3.3, figures 5-18, 5-23) */
	u32 pkrs; /* protection keys of supervisor-mode pages (with CR4.PKS): IA32_PKRS */
};

/* How the walk reaches paging-structure entries (4 or 8 bytes, aligned) and the guest's PKRU. */
struct x86_paging_ops {
	/* 0, or -EFAULT when gpa is not guest RAM. */
	int (*read)(void *ctx, gpa_t gpa, unsigned int size, u64 *val);
	/* Stores new_val if the entry still holds old, atomically: 0, -EAGAIN if not, -EFAULT. */
	int (*cmpxchg)(void *ctx, gpa_t gpa, unsigned int size, u64 old, u64 new_val);
	/* Asked only for a data access to a user-mode page with CR4.PKE, in 4- or 5-level paging. */
	u32 (*pkru)(void *ctx);
};

/* Returned when an access raised the exception in *fault (not an error: the guest gets it). */
#define X86_FAULT 1

/*
 * Translates linear for one access (X86_ACC_*) in the paging mode p describes
 * (none, 32-bit, PAE, 4- or 5-level) as the CPU would: returns 0 with *gpa,
 * having set the accessed and (for writes) dirty flags; X86_FAULT with *fault
 * (#PF with its error code and address, or #GP(0) for a non-canonical
 * address), changing nothing; -EFAULT when a paging structure is not guest
 * RAM; -EAGAIN when the entries kept changing under the walk.
 */
int x86_paging_walk(const struct x86_paging *p, u64 linear, u32 access,
		    const struct x86_paging_ops *ops, void *ctx, gpa_t *gpa,
		    struct x86_fault *fault);

#endif
