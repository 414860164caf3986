/* SPDX-License-Identifier: MIT */
/* The VMCB as AMD's manual lays it out (APM vol. 2, appendix B), with the bits Keel uses. */
#ifndef ARCH_X86_SVM_VMCB_H
#define ARCH_X86_SVM_VMCB_H

#include <lib/types.h>

struct vmcb_seg {
	u16 selector;
	u16 attrib;
	u32 limit;
	u64 base;
};

struct vmcb_control {		  /* APM2 table B-1 */
	u32 intercept_cr;	  /* 0x000: reads 0-15, writes 16-31 */
	u32 intercept_dr;	  /* 0x004 */
	u32 intercept_exceptions; /* 0x008 */
	u32 intercept_misc1;	  /* 0x00c */
	u32 intercept_misc2;	  /* 0x010 */
	u32 intercept_misc3;	  /* 0x014 */
	u8 reserved0[0x3c - 0x18];
	u16 pause_filter_threshold; /* 0x03c */
	u16 pause_filter_count;	    /* 0x03e */
	u64 iopm_base_pa;	    /* 0x040 */
	u64 msrpm_base_pa;	    /* 0x048 */
	u64 tsc_offset;		    /* 0x050 */
	u32 asid;		    /* 0x058 */
	u8 tlb_control;		    /* 0x05c */
	u8 reserved1[3];
	u64 int_ctl;	   /* 0x060: V_TPR, V_IRQ, V_INTR_* */
	u64 int_state;	   /* 0x068: interrupt shadow */
	u64 exit_code;	   /* 0x070 */
	u64 exit_info_1;   /* 0x078 */
	u64 exit_info_2;   /* 0x080 */
	u64 exit_int_info; /* 0x088 */
	u64 nested_ctl;	   /* 0x090: NP_ENABLE */
	u64 avic_apic_bar; /* 0x098 */
	u64 ghcb_pa;	   /* 0x0a0 */
	u64 event_inj;	   /* 0x0a8 */
	u64 n_cr3;	   /* 0x0b0 */
	u64 virt_ext;	   /* 0x0b8 */
	u32 clean;	   /* 0x0c0 */
	u32 reserved2;
	u64 next_rip; /* 0x0c8 */
	u8 insn_len;  /* 0x0d0 */
	u8 insn_bytes[15];
	u8 reserved3[0x400 - 0xe0];
};

struct vmcb_save { /* APM2 table B-2, offsets from the start of the VMCB */
	struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400-0x49f */
	u8 reserved0[0x4cb - 0x4a0];
	u8 cpl; /* 0x4cb */
	u32 reserved1;
	u64 efer; /* 0x4d0 */
	u8 reserved2[0x548 - 0x4d8];
	u64 cr4;    /* 0x548 */
	u64 cr3;    /* 0x550 */
	u64 cr0;    /* 0x558 */
	u64 dr7;    /* 0x560 */
	u64 dr6;    /* 0x568 */
	u64 rflags; /* 0x570 */
	u64 rip;    /* 0x578 */
	u8 reserved3[0x5d8 - 0x580];
	u64 rsp; /* 0x5d8 */
	u64 s_cet, ssp, isst_addr;
	u64 rax;					/* 0x5f8 */
	u64 star, lstar, cstar, sfmask, kernel_gs_base; /* 0x600-0x620 */
	u64 sysenter_cs, sysenter_esp, sysenter_eip;	/* 0x628-0x638 */
	u64 cr2;					/* 0x640 */
	u8 reserved4[0x668 - 0x648];
	u64 g_pat; /* 0x668 */
	u64 dbgctl;
	u64 br_from, br_to, last_excp_from, last_excp_to;
	u8 reserved5[0x1000 - 0x698];
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_save save;
};

BUILD_ASSERT(sizeof(struct vmcb) == 4096, "APM2 B: the VMCB is one page");
#define VMCB_AT(field, off) \
	BUILD_ASSERT(offsetof(struct vmcb, field) == (off), "APM2 appendix B: " #field)
VMCB_AT(control.pause_filter_threshold, 0x3c);
VMCB_AT(control.iopm_base_pa, 0x40);
VMCB_AT(control.asid, 0x58);
VMCB_AT(control.tlb_control, 0x5c);
VMCB_AT(control.int_ctl, 0x60);
VMCB_AT(control.exit_code, 0x70);
VMCB_AT(control.exit_int_info, 0x88);
VMCB_AT(control.nested_ctl, 0x90);
VMCB_AT(control.event_inj, 0xa8);
VMCB_AT(control.n_cr3, 0xb0);
VMCB_AT(control.clean, 0xc0);
VMCB_AT(control.next_rip, 0xc8);
VMCB_AT(control.insn_len, 0xd0);
VMCB_AT(save.es, 0x400);
VMCB_AT(save.cs, 0x410);
VMCB_AT(save.gdtr, 0x460);
VMCB_AT(save.idtr, 0x480);
VMCB_AT(save.tr, 0x490);
VMCB_AT(save.cpl, 0x4cb);
VMCB_AT(save.efer, 0x4d0);
VMCB_AT(save.cr4, 0x548);
VMCB_AT(save.cr0, 0x558);
VMCB_AT(save.rflags, 0x570);
VMCB_AT(save.rip, 0x578);
VMCB_AT(save.rsp, 0x5d8);
VMCB_AT(save.rax, 0x5f8);
VMCB_AT(save.star, 0x600);
VMCB_AT(save.kernel_gs_base, 0x620);
VMCB_AT(save.sysenter_eip, 0x638);
VMCB_AT(save.cr2, 0x640);
VMCB_AT(save.g_pat, 0x668);

/* Intercept vector 3 (misc1), APM2 table B-1 offset 0x00c */
#define ICPT_INTR BIT(0)
#define ICPT_NMI BIT(1)
#define ICPT_SMI BIT(2)
#define ICPT_INIT BIT(3)
#define ICPT_VINTR BIT(4)
#define ICPT_CR8_WRITE BIT(24) /* intercept_cr: writes of CRn are bits 16-31 (APM2 B-1) */
#define ICPT_CPUID BIT(18)
#define ICPT_IRET BIT(20)
#define ICPT_INVD BIT(22)
#define ICPT_HLT BIT(24)
#define ICPT_INVLPGA BIT(26)
#define ICPT_IOIO BIT(27)
#define ICPT_MSR BIT(28)
#define ICPT_TASK_SWITCH BIT(29)
#define ICPT_SHUTDOWN BIT(31)
/* Intercept vector 4 (misc2), offset 0x010 */
#define ICPT_VMRUN BIT(0)
#define ICPT_VMMCALL BIT(1)
#define ICPT_VMLOAD BIT(2)
#define ICPT_VMSAVE BIT(3)
#define ICPT_STGI BIT(4)
#define ICPT_CLGI BIT(5)
#define ICPT_SKINIT BIT(6)
#define ICPT_MONITOR BIT(10)
#define ICPT_MWAIT BIT(11)
#define ICPT_MWAIT_COND BIT(12)
#define ICPT_XSETBV BIT(13)

/* int_ctl, APM2 15.21.1 */
#define V_IRQ BIT(8)
#define V_INTR_PRIO_SHIFT 16
#define V_IGN_TPR BIT(20)
#define V_INTR_MASKING BIT(24)
#define V_INTR_VECTOR_SHIFT 32 /* the byte at 0x064 */

#define INT_SHADOW BIT(0)

#define NP_ENABLE BIT(0)
#define TLB_FLUSH_ALL 1 /* APM2 15.16.1: TLB_CONTROL values */

/* EVENTINJ and EXITINTINFO, APM2 15.20 */
#define EVENT_VECTOR_MASK 0xff
#define EVENT_TYPE_SHIFT 8
#define EVENT_TYPE_MASK (7u << EVENT_TYPE_SHIFT)
#define EVENT_ERROR_VALID BIT(11)
#define EVENT_VALID BIT(31)

/* Exit codes, APM2 appendix C */
#define SVM_EXIT_WRITE_CR8 0x18 /* APM2 C: 0x10 + n, writes of CRn */
#define SVM_EXIT_EXCP_BASE 0x40
#define SVM_EXIT_INTR 0x60
#define SVM_EXIT_NMI 0x61
#define SVM_EXIT_SMI 0x62
#define SVM_EXIT_INIT 0x63
#define SVM_EXIT_VINTR 0x64
#define SVM_EXIT_CPUID 0x72
#define SVM_EXIT_IRET 0x74
#define SVM_EXIT_INVD 0x76
#define SVM_EXIT_PAUSE 0x77
#define SVM_EXIT_HLT 0x78
#define SVM_EXIT_INVLPGA 0x7a
#define SVM_EXIT_IOIO 0x7b
#define SVM_EXIT_MSR 0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_SHUTDOWN 0x7f
#define SVM_EXIT_VMRUN 0x80
#define SVM_EXIT_VMMCALL 0x81
#define SVM_EXIT_VMLOAD 0x82
#define SVM_EXIT_VMSAVE 0x83
#define SVM_EXIT_STGI 0x84
#define SVM_EXIT_CLGI 0x85
#define SVM_EXIT_SKINIT 0x86
#define SVM_EXIT_MONITOR 0x8a
#define SVM_EXIT_MWAIT 0x8b
#define SVM_EXIT_MWAIT_COND 0x8c
#define SVM_EXIT_XSETBV 0x8d
#define SVM_EXIT_NPF 0x400
#define SVM_EXIT_INVALID 0xffffffffu /* QEMU 7.2 stores it as 32 bits: compare the low half */

/* IOIO exit_info_1, APM2 15.10.2 */
#define IOIO_IN BIT(0)
#define IOIO_STR BIT(2)
#define IOIO_REP BIT(3)
#define IOIO_SIZE_SHIFT 4
#define IOIO_A16 BIT(7) /* address size of a string instruction (not set by QEMU's TCG) */
#define IOIO_A32 BIT(8)
#define IOIO_A64 BIT(9)
#define IOIO_PORT_SHIFT 16

/* NPF exit_info_1: the page-fault error code (APM2 15.25.6) */
#define NPF_PRESENT BIT(0)
#define NPF_WRITE BIT(1)
#define NPF_FETCH BIT(4)

#define IOPM_SIZE (3 * 4096)  /* APM2 15.10.1 */
#define MSRPM_SIZE (2 * 4096) /* APM2 15.11 */

/* The consistency check a VMCB fails, or NULL if none of those Keel knows. */
const char *svm_check_state(const struct vmcb *vmcb);

/* arch/x86/svm/svm_entry.S */
void svm_vmrun(hpa_t vmcb_pa, u64 *gprs, hpa_t host_vmcb_pa);

#endif
