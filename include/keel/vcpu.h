/* SPDX-License-Identifier: MIT */
/* vCPUs: the state vmm/ keeps, the normalized exit, and the backend interface (SVM or VMX). */
#ifndef KEEL_VCPU_H
#define KEEL_VCPU_H

#include <arch/x86/x86_vectors.h>
#include <keel/pagetable.h>
#include <lib/types.h>

struct vm;
struct vcpu;
struct vlapic;
struct percpu;

/* Exit reasons every backend maps its own codes onto. */
enum exit_reason {
	EXIT_NONE,   /* 0: no exit; a backend never reports it */
	EXIT_EXTINT, /* a physical interrupt for the hypervisor */
	EXIT_NMI,
	EXIT_IRQ_WINDOW, /* the guest can take an interrupt now */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_IO,
	EXIT_NPF, /* nested page fault / EPT violation */
	EXIT_HLT,
	EXIT_HYPERCALL, /* VMMCALL / VMCALL */
	EXIT_EXCEPTION, /* an intercepted guest exception */
	EXIT_SHUTDOWN,	/* triple fault */
	EXIT_INVALID,	/* VM entry failed: bad guest state */
	EXIT_XSETBV,
	EXIT_TASK_SWITCH,
	EXIT_PAUSE,
	EXIT_UD,	 /* an instruction the guest may not use here (VMRUN, MONITOR...): #UD */
	EXIT_INIT,	 /* INIT signal */
	EXIT_CR_ACCESS,	 /* a control register access the backend emulated */
	EXIT_NMI_WINDOW, /* the guest can take an NMI now */
	EXIT_UNKNOWN,
	EXIT_COUNT
};

struct vm_exit {
	enum exit_reason reason;
	u64 code;     /* the backend's own exit code, for messages */
	u32 insn_len; /* length of the exiting instruction if the hardware said, else 0 */
	union {
		struct {
			u16 port;
			u8 size;
			bool in, string, rep;
			/* string I/O, where the hardware says (else vmm/ decodes the instruction) */
			u8 addr_size; /* 2, 4 or 8; 0: not said */
			bool seg_valid;
			u8 seg; /* enum vcpu_seg of OUTS' source */
		} io;
		struct {
			u32 index;
		} msr;
		struct {
			gpa_t gpa;
			bool write, fetch, present;
			bool vectoring; /* during an event's delivery (IDT, GDT, stack, TSS) */
		} npf;
		struct {
			u8 vector;
			bool has_error;
			u32 error;
		} exception;
		struct {
			const char *why;
		} invalid;
	};
};

/* Registers reached through the backend (the GPRs live in struct vcpu). */
enum vcpu_reg {
	VCPU_RIP,
	VCPU_RFLAGS,
	VCPU_CR0,
	VCPU_CR2,
	VCPU_CR3,
	VCPU_CR4,
	VCPU_EFER,
	VCPU_PAT,
	VCPU_DR7,
	VCPU_REG_COUNT
};

enum vcpu_seg {
	SEG_ES,
	SEG_CS,
	SEG_SS,
	SEG_DS,
	SEG_FS,
	SEG_GS,
	SEG_LDTR,
	SEG_TR,
	SEG_GDTR,
	SEG_IDTR
};

/* attr: type(3:0) S(4) DPL(6:5) P(7) AVL(8) L(9) D/B(10) G(11), as in the VMCB (APM2 15.5.1). */
struct vcpu_segment {
	u16 selector;
	u16 attr;
	u32 limit;
	u64 base;
};
#define SEG_ATTR_P BIT(7)
#define SEG_ATTR_S BIT(4)
#define SEG_ATTR_DPL_SHIFT 5
#define SEG_ATTR_DPL (3u << SEG_ATTR_DPL_SHIFT)
#define SEG_ATTR_L BIT(9)
#define SEG_ATTR_DB BIT(10)
#define SEG_ATTR_G BIT(11)

struct vcpu_event {
	u8 type; /* enum event_type */
	u8 vector;
	bool has_error;
	u32 error;
	u8 insn_len; /* INT n, INT3, INTO, INT1: their instruction's length (it returns after it) */
};

/* The MTRRs as the guest programmed them (vmm/exit/mtrr.c): kept and read back, not applied. */
#define VCPU_MTRR_VAR 8 /* variable ranges (IA32_MTRRCAP.VCNT) */
struct vcpu_mtrr {
	u64 def_type;
	u64 fixed[11];		    /* 64K_00000, 16K_80000, 16K_A0000, 4K_C0000 ... 4K_F8000 */
	u64 var[2 * VCPU_MTRR_VAR]; /* PhysBase0, PhysMask0, PhysBase1... */
};

/* GPR indexes: hardware encoding order. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };

enum vcpu_state {
	VCPU_RUNNABLE,
	VCPU_HALTED,	/* HLT: until an interrupt is pending */
	VCPU_WAIT_SIPI, /* an application processor before its start-up IPI */
	VCPU_STOPPED,	/* its VM is stopped or dead */
	VCPU_WAIT_IO,	/* until keel-dm answers its I/O request slot */
};

/* A device access keel-dm answered (type, address, size, direction as in struct kctl_ioreq). */
struct dm_access {
	u32 type, size;
	bool write;
	u64 addr, data;
};

/*
 * A vCPU's accesses to keel-dm's devices. The exiting instruction is repeated
 * once an answer is in; answers it already took are replayed in order, so an
 * instruction making two accesses (a read-modify-write) completes.
 */
struct dm_io {
	struct dm_access req; /* what the slot asks now */
	bool waiting;	      /* req is in the slot, not yet taken back */
	bool answered;	      /* keel-dm answered: no event injection on the next entry */
	u32 nr_done, pos;
	struct dm_access done[2];
	u32 flash; /* the KCTL_FLASH_* action of the answer just taken (0: none, or replayed) */
};

#define VM_MAX_IO 24   /* port handlers a VM has (struct vm.io) */
#define VM_MAX_MMIO 48 /* MMIO handlers a VM has (struct vm.mmio) */

struct vcpu {
	struct vm *vm;
	u32 id;	  /* index in its VM, also its APIC ID */
	u32 pcpu; /* the physical CPU it is pinned to */
	volatile enum vcpu_state state;
	u64 gpr[16];
	void *arch; /* backend state: VMCB or VMCS */
	struct vlapic *lapic;
	struct vcpu_event pending_exception;
	bool exception_pending;
	volatile bool nmi_pending;
	volatile bool running; /* inside the backend's run() right now */
	volatile bool queued;  /* on its physical CPU's run list */
	struct vcpu *next;     /* on its physical CPU's run list */
	u64 vtime;	       /* TSC cycles it ran, offset on its run list (sched.c) */
	u64 exits[EXIT_COUNT];
	u64 exits_total;
	/*
	 * Port I/O exits and nested page faults by the VM's handler they went
	 * to (its index in vm.io, vm.mmio); the last of each: none of Keel's
	 * (keel-dm's, or nothing). Read by keelctl exits (control_cmd.c).
	 */
	u64 io_exits[VM_MAX_IO + 1];
	u64 mmio_exits[VM_MAX_MMIO + 1];
	u64 dm_doorbells, dm_requests; /* posted doorbell writes, requests keel-dm answered */
	u64 exit_rip; /* guest RIP at the latest exit (the backend's run() sets it and exit_len) */
	/*
	 * The exiting instruction's length where the CPU itself computed the
	 * next RIP and it did not wrap (AMD-V's NRIP): vcpu_skip() then moves
	 * RIP without asking the guest's mode. 0: vcpu_skip() works it out.
	 */
	u32 exit_len;
	bool in_guest; /* between entry and exit: may use cached guest-physical translations */
	u64 sipi_vector;
	u64 tsc_aux; /* IA32_TSC_AUX (RDTSCP, RDPID): no VMCB or VMCS field holds it */
	/* the guest's TSC is the host's plus tsc_offset (the backends load it before entry) */
	u64 tsc_offset;
	u64 tsc_adjust; /* IA32_TSC_ADJUST: what WRMSRs to the TSC and to itself added (SDM 3B 17.17.3) */
	struct vcpu_mtrr mtrr;
	struct dm_io dm;
	void *fpu; /* x87/SSE/AVX... state while the vCPU is off its CPU */
	u64 xcr0;
	u64 spec_ctrl; /* IA32_SPEC_CTRL (vmm/exit/spec.c) */
	u64 dr[4];     /* DR0-DR3 while the vCPU is off its CPU */
	u64 dr6;       /* DR6 likewise, where the backend does not keep it (VT-x) */
};

/*
 * A hardware backend. One table, chosen once at boot from CPUID; nothing
 * outside arch/x86/svm and arch/x86/vmx sees how it does its work.
 */
struct vcpu_ops {
	const char *name;
	const struct pt_format *gpa_format; /* NPT or EPT */
	bool keeps_dr6; /* guest DR6 is in the VMCB (AMD-V), not for vmm/ to switch */
	int (*cpu_enable)(struct percpu *pc);
	int (*vm_init)(struct vm *vm);
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_create)(struct vcpu *v); /* architectural reset state */
	void (*vcpu_destroy)(struct vcpu *v);
	/* On the vCPU's CPU, once it left the run list for good (its VM stopped); may be NULL. */
	void (*vcpu_unload)(struct vcpu *v);
	void (*run)(struct vcpu *v, struct vm_exit *exit);
	u64 (*get_reg)(struct vcpu *v, enum vcpu_reg r);
	void (*set_reg)(struct vcpu *v, enum vcpu_reg r, u64 val);
	void (*get_seg)(struct vcpu *v, enum vcpu_seg s, struct vcpu_segment *out);
	void (*set_seg)(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *in);
	/* Queues an event for the next entry; false if one is already queued. */
	bool (*inject)(struct vcpu *v, const struct vcpu_event *ev);
	/* Whether an external interrupt would be taken now; if not, asks for an exit when it would. */
	bool (*irq_window)(struct vcpu *v);
	/* A reset: drops the event queued for the next entry, interrupt shadow and NMI blocking. */
	void (*clear_events)(struct vcpu *v);
	void (*intercept_msr)(struct vm *vm, u32 msr, bool read, bool write);
	void (*intercept_io)(struct vm *vm, u16 port, bool on);
};

extern const struct vcpu_ops *vcpu_ops;

/*
 * Instructions a guest runs only where the backend lets it (VT-x secondary
 * controls, SDM 3C 26.6.2): CPUID offers them only then. All by default; the
 * VT-x backend clears what its CPU cannot enable.
 */
#define GUEST_INSN_RDTSCP BIT(0)
#define GUEST_INSN_INVPCID BIT(1)
extern u32 vcpu_guest_insns;

#endif
