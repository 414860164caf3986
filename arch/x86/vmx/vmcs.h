/* SPDX-License-Identifier: MIT */
/*
 * The VMCS as Intel's manual defines it: field encodings (SDM 3D appendix B),
 * control bits (SDM 3C 25.6-25.8), exit reasons (SDM 3D appendix C), the
 * exit-qualification and event-information formats (SDM 3C 28.2), and the
 * VMX instructions as inline functions. Sections are those of the SDM of
 * 2023 and later (25 VMCS, 27 VM entries, 28 VM exits, 29 EPT, 31 the
 * VMX instruction reference).
 */
#ifndef ARCH_X86_VMX_VMCS_H
#define ARCH_X86_VMX_VMCS_H

#ifndef __ASSEMBLER__ /* vmx_entry.S takes the field encodings */
#include <arch/x86/x86_vectors.h>
#include <lib/types.h>
#endif

/* --- field encodings, SDM 3D appendix B --- */
/* 16-bit (B.1) */
#define VMCS_VPID 0x0000
#define VMCS_GUEST_ES_SEL 0x0800 /* ES, CS, SS, DS, FS, GS, LDTR, TR: +2 each */
#define VMCS_HOST_ES_SEL 0x0c00
#define VMCS_HOST_CS_SEL 0x0c02
#define VMCS_HOST_SS_SEL 0x0c04
#define VMCS_HOST_DS_SEL 0x0c06
#define VMCS_HOST_FS_SEL 0x0c08
#define VMCS_HOST_GS_SEL 0x0c0a
#define VMCS_HOST_TR_SEL 0x0c0c
/* 64-bit (B.2) */
#define VMCS_IO_BITMAP_A 0x2000
#define VMCS_IO_BITMAP_B 0x2002
#define VMCS_MSR_BITMAP 0x2004
#define VMCS_EXIT_MSR_STORE_ADDR 0x2006
#define VMCS_EXIT_MSR_LOAD_ADDR 0x2008
#define VMCS_ENTRY_MSR_LOAD_ADDR 0x200a
#define VMCS_TSC_OFFSET 0x2010
#define VMCS_EPT_POINTER 0x201a
#define VMCS_GUEST_PHYS_ADDR 0x2400 /* read-only: the GPA of an EPT violation */
#define VMCS_LINK_POINTER 0x2800
#define VMCS_GUEST_DEBUGCTL 0x2802
#define VMCS_GUEST_PAT 0x2804
#define VMCS_GUEST_EFER 0x2806
#define VMCS_GUEST_PDPTE0 0x280a /* PDPTE0-3: +2 each */
#define VMCS_HOST_PAT 0x2c00
#define VMCS_HOST_EFER 0x2c02
/* 32-bit (B.3) */
#define VMCS_PIN_CONTROLS 0x4000
#define VMCS_PROC_CONTROLS 0x4002
#define VMCS_EXCEPTION_BITMAP 0x4004
#define VMCS_PF_ERROR_MASK 0x4006
#define VMCS_PF_ERROR_MATCH 0x4008
#define VMCS_CR3_TARGET_COUNT 0x400a
#define VMCS_EXIT_CONTROLS 0x400c
#define VMCS_EXIT_MSR_STORE_COUNT 0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT 0x4010
#define VMCS_ENTRY_CONTROLS 0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT 0x4014
#define VMCS_ENTRY_INTR_INFO 0x4016
#define VMCS_ENTRY_EXCEPTION_ERROR 0x4018
#define VMCS_ENTRY_INSN_LEN 0x401a
#define VMCS_PROC2_CONTROLS 0x401e
#define VMCS_PLE_GAP 0x4020
#define VMCS_PLE_WINDOW 0x4022
#define VMCS_INSN_ERROR 0x4400 /* read-only data fields from here */
#define VMCS_EXIT_REASON 0x4402
#define VMCS_EXIT_INTR_INFO 0x4404
#define VMCS_EXIT_INTR_ERROR 0x4406
#define VMCS_IDT_VECTORING_INFO 0x4408
#define VMCS_IDT_VECTORING_ERROR 0x440a
#define VMCS_EXIT_INSN_LEN 0x440c
#define VMCS_EXIT_INSN_INFO 0x440e
#define VMCS_GUEST_ES_LIMIT 0x4800 /* ES ... TR, GDTR, IDTR: +2 each */
#define VMCS_GUEST_ES_AR 0x4814	   /* ES ... TR: +2 each */
#define VMCS_GUEST_INTR_STATE 0x4824
#define VMCS_GUEST_ACTIVITY 0x4826
#define VMCS_GUEST_SYSENTER_CS 0x482a
#define VMCS_HOST_SYSENTER_CS 0x4c00
/* natural width (B.4) */
#define VMCS_CR0_MASK 0x6000
#define VMCS_CR4_MASK 0x6002
#define VMCS_CR0_SHADOW 0x6004
#define VMCS_CR4_SHADOW 0x6006
#define VMCS_EXIT_QUALIFICATION 0x6400
#define VMCS_GUEST_CR0 0x6800
#define VMCS_GUEST_CR3 0x6802
#define VMCS_GUEST_CR4 0x6804
#define VMCS_GUEST_ES_BASE 0x6806 /* ES ... TR, GDTR, IDTR: +2 each */
#define VMCS_GUEST_DR7 0x681a
#define VMCS_GUEST_RSP 0x681c
#define VMCS_GUEST_RIP 0x681e
#define VMCS_GUEST_RFLAGS 0x6820
#define VMCS_GUEST_PENDING_DBG 0x6822
#define VMCS_GUEST_SYSENTER_ESP 0x6824
#define VMCS_GUEST_SYSENTER_EIP 0x6826
#define VMCS_HOST_CR0 0x6c00
#define VMCS_HOST_CR3 0x6c02
#define VMCS_HOST_CR4 0x6c04
#define VMCS_HOST_FS_BASE 0x6c06
#define VMCS_HOST_GS_BASE 0x6c08
#define VMCS_HOST_TR_BASE 0x6c0a
#define VMCS_HOST_GDTR_BASE 0x6c0c
#define VMCS_HOST_IDTR_BASE 0x6c0e
#define VMCS_HOST_SYSENTER_ESP 0x6c10
#define VMCS_HOST_SYSENTER_EIP 0x6c12
#define VMCS_HOST_RSP 0x6c14
#define VMCS_HOST_RIP 0x6c16

/* --- capability MSRs, SDM 3D appendix A --- */
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PIN 0x481
#define MSR_VMX_PROC 0x482
#define MSR_VMX_EXIT 0x483
#define MSR_VMX_ENTRY 0x484
#define MSR_VMX_MISC 0x485
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define MSR_VMX_PROC2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PIN 0x48d /* the TRUE_ forms: +0xc from the plain ones (A.3.1-A.5) */
#define MSR_VMX_TRUE_OFFSET 0xc
#define VMX_BASIC_REVISION(b) ((u32)(b)&0x7fffffff)
#define VMX_BASIC_INS_OUTS_INFO BIT(54) /* A.1: instruction information for INS/OUTS exits */
#define VMX_BASIC_TRUE_CTLS BIT(55)	/* A.1 */
#define VMX_MISC_STORE_LMA BIT(5)	/* A.6: exits save EFER.LMA into "IA-32e mode guest" */
#define VMX_MISC_ACTIVITY_HLT BIT(6)
#define EPT_CAP_EXEC_ONLY BIT(0) /* A.10 */
#define EPT_CAP_WALK4 BIT(6)
#define EPT_CAP_UC BIT(8)
#define EPT_CAP_WB BIT(14)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_INVEPT BIT(20)
#define EPT_CAP_AD BIT(21)
#define EPT_CAP_INVEPT_SINGLE BIT(25)
#define EPT_CAP_INVEPT_ALL BIT(26)
#define VPID_CAP_INVVPID BIT(32)
#define VPID_CAP_INVVPID_SINGLE BIT(41)
#define VPID_CAP_INVVPID_ALL BIT(42)

/* --- controls --- */
/* pin-based, SDM 3C table 25-5 */
#define PIN_EXTINT_EXITING BIT(0)
#define PIN_NMI_EXITING BIT(3)
#define PIN_VIRTUAL_NMIS BIT(5)
#define PIN_POSTED_INTR BIT(7)
/* primary processor-based, table 25-6 */
#define PROC_INTR_WINDOW BIT(2)
#define PROC_TSC_OFFSETTING BIT(3)
#define PROC_HLT_EXITING BIT(7)
#define PROC_INVLPG_EXITING BIT(9)
#define PROC_MWAIT_EXITING BIT(10)
#define PROC_CR3_LOAD_EXITING BIT(15)
#define PROC_CR3_STORE_EXITING BIT(16)
#define PROC_NMI_WINDOW BIT(22)
#define PROC_UNCOND_IO_EXITING BIT(24)
#define PROC_IO_BITMAPS BIT(25)
#define PROC_MSR_BITMAPS BIT(28)
#define PROC_MONITOR_EXITING BIT(29)
#define PROC_SECONDARY BIT(31)
/* secondary processor-based, table 25-7 */
#define PROC2_EPT BIT(1)
#define PROC2_RDTSCP BIT(3)
#define PROC2_VPID BIT(5)
#define PROC2_UNRESTRICTED BIT(7)
#define PROC2_APIC_REG_VIRT BIT(8)
#define PROC2_VIRT_INTR_DELIVERY BIT(9)
#define PROC2_PAUSE_LOOP BIT(10)
#define PROC2_INVPCID BIT(12)
#define PROC2_XSAVES BIT(20)
/* VM-exit controls, table 25-13 */
#define EXIT_SAVE_DEBUG BIT(2)
#define EXIT_HOST_64BIT BIT(9)
#define EXIT_ACK_INTR BIT(15)
#define EXIT_SAVE_PAT BIT(18)
#define EXIT_LOAD_PAT BIT(19)
#define EXIT_SAVE_EFER BIT(20)
#define EXIT_LOAD_EFER BIT(21)
/* VM-entry controls, table 25-15 */
#define ENTRY_LOAD_DEBUG BIT(2)
#define ENTRY_IA32E_GUEST BIT(9)
#define ENTRY_LOAD_PAT BIT(14)
#define ENTRY_LOAD_EFER BIT(15)

/* EPTP, SDM 3C 25.6.11 */
#define EPTP_WALK4 (3 << 3) /* page-walk length minus one */

/* guest interruptibility state, table 25-3 */
#define INTR_STATE_STI BIT(0)
#define INTR_STATE_MOV_SS BIT(1)
#define INTR_STATE_NMI BIT(3)
/* guest activity state, 25.4.2 */
#define ACTIVITY_ACTIVE 0

/* guest segment access rights, table 25-2 */
#define AR_TYPE_MASK 0xf
#define AR_S BIT(4)
#define AR_DPL_SHIFT 5
#define AR_P BIT(7)
#define AR_AVL BIT(12)
#define AR_L BIT(13)
#define AR_DB BIT(14)
#define AR_G BIT(15)
#define AR_UNUSABLE BIT(16)
#define AR_RESERVED (GENMASK(11, 8) | GENMASK(31, 17))

/* interruption information: VM-entry (table 25-17), VM-exit (28-18), IDT vectoring (28-19) */
#define INTR_INFO_VECTOR_MASK 0xff
#define INTR_INFO_TYPE_SHIFT 8
#define INTR_INFO_TYPE_MASK (7u << INTR_INFO_TYPE_SHIFT)
#define INTR_INFO_ERROR_VALID BIT(11)
#define INTR_INFO_NMI_UNBLOCKED BIT(12)	   /* exits only: IRET unblocked NMIs before the exit */
#define INTR_INFO_RESERVED GENMASK(30, 12) /* entries: must be zero */
#define INTR_INFO_VALID BIT(31)

/* --- exit reasons, SDM 3D appendix C (bits 15:0 of the exit-reason field) --- */
#define EXIT_REASON_ENTRY_FAILED BIT(31)
#define EXIT_REASON_BASIC(r) ((r)&0xffff) /* SDM 3C 25.9.1: bits 15:0 */
/* SDM 3C 27.8: the exit qualification of a failed entry (exit 33 or 34) */
#define ENTRY_QUAL_PDPTE 2
#define ENTRY_QUAL_LINK_POINTER 4
/* SDM 3C 31.4: VM-instruction errors Keel explains further */
#define VMX_INSN_ERR_ENTRY_CONTROLS 7
#define VMX_EXIT_EXCEPTION_NMI 0
#define VMX_EXIT_EXTINT 1
#define VMX_EXIT_TRIPLE_FAULT 2
#define VMX_EXIT_INIT 3
#define VMX_EXIT_SIPI 4
#define VMX_EXIT_INTR_WINDOW 7
#define VMX_EXIT_NMI_WINDOW 8
#define VMX_EXIT_TASK_SWITCH 9
#define VMX_EXIT_CPUID 10
#define VMX_EXIT_GETSEC 11
#define VMX_EXIT_HLT 12
#define VMX_EXIT_INVD 13
#define VMX_EXIT_INVLPG 14
#define VMX_EXIT_RDPMC 15
#define VMX_EXIT_RDTSC 16
#define VMX_EXIT_RSM 17
#define VMX_EXIT_VMCALL 18
#define VMX_EXIT_VMCLEAR 19 /* 19-27: VMCLEAR ... VMXON */
#define VMX_EXIT_VMXON 27
#define VMX_EXIT_CR_ACCESS 28
#define VMX_EXIT_DR_ACCESS 29
#define VMX_EXIT_IO 30
#define VMX_EXIT_RDMSR 31
#define VMX_EXIT_WRMSR 32
#define VMX_EXIT_BAD_GUEST_STATE 33
#define VMX_EXIT_MSR_LOADING 34
#define VMX_EXIT_MWAIT 36
#define VMX_EXIT_MONITOR 39
#define VMX_EXIT_PAUSE 40
#define VMX_EXIT_MACHINE_CHECK 41
#define VMX_EXIT_GDTR_IDTR 46
#define VMX_EXIT_LDTR_TR 47
#define VMX_EXIT_EPT_VIOLATION 48
#define VMX_EXIT_EPT_MISCONFIG 49
#define VMX_EXIT_INVEPT 50
#define VMX_EXIT_RDTSCP 51
#define VMX_EXIT_INVVPID 53
#define VMX_EXIT_WBINVD 54
#define VMX_EXIT_XSETBV 55
#define VMX_EXIT_RDRAND 57
#define VMX_EXIT_INVPCID 58
#define VMX_EXIT_VMFUNC 59
#define VMX_EXIT_ENCLS 60
#define VMX_EXIT_RDSEED 61
#define VMX_EXIT_XSAVES 63
#define VMX_EXIT_XRSTORS 64
#define VMX_EXIT_MAX 64

/* exit qualifications, SDM 3C 28.2.1 */
#define CR_QUAL_CR(q) ((u32)(q)&0xf) /* table 28-3 */
#define CR_QUAL_TYPE(q) (((u32)(q) >> 4) & 3)
#define CR_QUAL_GPR(q) (((u32)(q) >> 8) & 0xf)
#define CR_QUAL_LMSW_DATA(q) (((u32)(q) >> 16) & 0xffff)
#define CR_TYPE_MOV_TO 0
#define CR_TYPE_MOV_FROM 1
#define CR_TYPE_CLTS 2
#define CR_TYPE_LMSW 3
#define IO_QUAL_SIZE(q) (((u32)(q)&7) + 1) /* table 28-5 */
#define IO_QUAL_IN BIT(3)
#define IO_QUAL_STRING BIT(4)
#define IO_QUAL_REP BIT(5)
/* VM-exit instruction information for INS/OUTS (SDM 3C 28.2.5, table 28-8) */
#define IO_INFO_ADDR_SIZE(i) (2u << (((i) >> 7) & 7)) /* 0: 16-bit, 1: 32, 2: 64 */
#define IO_INFO_SEG(i) (((i) >> 15) & 7)	      /* ES CS SS DS FS GS: enum vcpu_seg order */
#define IO_QUAL_PORT(q) ((u16)((q) >> 16))
#define EPT_QUAL_READ BIT(0) /* table 28-7 */
#define EPT_QUAL_WRITE BIT(1)
#define EPT_QUAL_FETCH BIT(2)
#define EPT_QUAL_PERMS (BIT(3) | BIT(4) | BIT(5)) /* what the entry allowed: zero = not present */
#define EPT_QUAL_NMI_UNBLOCKED BIT(12)

/* INVEPT and INVVPID types, SDM 3C 31.3 */
#define INVEPT_SINGLE 1
#define INVEPT_ALL 2
#define INVVPID_SINGLE 1
#define INVVPID_ALL 2

#ifndef __ASSEMBLER__
/* --- the VMX instructions; each returns nonzero if it failed (CF or ZF set, SDM 3C 31.2) --- */
static inline u64 vmcs_read(u32 field)
{
	u64 v;

	__asm__ volatile("vmread %1, %0" : "=r"(v) : "r"((u64)field) : "cc");
	return v;
}

static inline bool vmcs_write_failed(u32 field, u64 val)
{
	bool fail;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=q"(fail)
			 : "r"(val), "r"((u64)field)
			 : "cc", "memory");
	return fail;
}

static inline bool vmptrld(hpa_t pa)
{
	bool fail;

	__asm__ volatile("vmptrld %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail;
}

static inline bool vmclear(hpa_t pa)
{
	bool fail;

	__asm__ volatile("vmclear %1; setna %0" : "=q"(fail) : "m"(pa) : "cc", "memory");
	return fail;
}

static inline void invept(u64 type, u64 eptp)
{
	struct {
		u64 eptp, reserved;
	} desc = { eptp, 0 };

	__asm__ volatile("invept %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

static inline void invvpid(u64 type, u16 vpid)
{
	struct {
		u64 vpid, linear;
	} desc = { vpid, 0 };

	__asm__ volatile("invvpid %0, %1" ::"m"(desc), "r"(type) : "cc", "memory");
}

#endif /* __ASSEMBLER__ */

#endif
