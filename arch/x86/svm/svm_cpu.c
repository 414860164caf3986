// SPDX-License-Identifier: MIT
/* Enables AMD-V on one CPU (EFER.SVME, host save area, host VMSAVE state) and reports its SVM features. */
#include <arch/x86/cpu.h>
#include <arch/x86/percpu.h>
#include <arch/x86/svm/svm.h>
#include <arch/x86/virt.h>
#include <lib/format.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>

#define MSR_VM_HSAVE_PA 0xc0010117 /* APM2 15.30.4 */
/* CPUID Fn8000_000A_EDX, APM3 E.4.9 */
#define SVM_NPT BIT(0)
#define SVM_NRIPS BIT(3)
#define SVM_VMCB_CLEAN BIT(5)
#define SVM_FLUSH_BY_ASID BIT(6)
#define SVM_DECODE_ASSISTS BIT(7)
#define SVM_AVIC BIT(13)
#define SVM_VGIF BIT(16)

bool svm_nrip_save;

static const char *yn(u32 v, u32 bit)
{
	return (v & bit) ? "yes" : "no";
}

int svm_cpu_enable(struct percpu *pc)
{
	struct cpuid_regs r = cpuid(0x8000000a);
	void *hsave = page_alloc_zeroed(1), *host = page_alloc_zeroed(1);

	if (!hsave || !host)
		return -ENOMEM;
	svm_quirks_detect();
	format_snprintf(pc->virt_report, sizeof(pc->virt_report),
			"AMD-V rev %u, %u ASIDs, NPT %s, NRIP save %s, decode assists %s, "
			"VMCB clean %s, flush-by-ASID %s, AVIC %s, VGIF %s: enabled%s",
			r.eax & 0xff, r.ebx, yn(r.edx, SVM_NPT), yn(r.edx, SVM_NRIPS),
			yn(r.edx, SVM_DECODE_ASSISTS), yn(r.edx, SVM_VMCB_CLEAN),
			yn(r.edx, SVM_FLUSH_BY_ASID), yn(r.edx, SVM_AVIC), yn(r.edx, SVM_VGIF),
			svm_quirk_virq ? " (QEMU TCG: interrupts via V_IRQ)" : "");
	if (!(r.edx & SVM_NPT)) {
		format_snprintf(pc->virt_report, sizeof(pc->virt_report),
				"AMD-V rev %u without nested paging: Keel needs NPT", r.eax & 0xff);
		return -ENOTSUP;
	}
	svm_nrip_save = r.edx & SVM_NRIPS; /* the same on every CPU of a machine */
	if (!(cpuid(0x80000001).edx & CPUID_80000001_EDX_PDPE1GB))
		npt_format.leaf_levels &= ~BIT(2); /* APM2 15.25.2: NPT walks follow host paging */
	pc->virt_area = virt_to_phys(hsave);
	pc->virt_host_state = virt_to_phys(host);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	wrmsr(MSR_VM_HSAVE_PA, pc->virt_area);
	/* the host's FS/GS/TR/LDTR and syscall MSRs, reloaded after every exit */
	__asm__ volatile("vmsave %0" ::"a"(pc->virt_host_state) : "memory");
	svm_asid_init(pc->cpu, r.ebx);
	return 0;
}
