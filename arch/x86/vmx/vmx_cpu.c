// SPDX-License-Identifier: MIT
/* Enables VT-x on one CPU (feature control, CR0/CR4 fixed bits, VMXON) and reports its features. */
#include <arch/x86/cpu.h>
#include <arch/x86/virt.h>
#include <keel/format.h>
#include <keel/memory.h>
#include <keel/page_alloc.h>

/* SDM 3D appendix A */
#define MSR_FEATURE_CONTROL 0x3a
#define FC_LOCKED BIT(0)
#define FC_VMXON_OUTSIDE_SMX BIT(2)
#define MSR_VMX_BASIC 0x480
#define MSR_VMX_PINBASED 0x481
#define MSR_VMX_PROCBASED2 0x48b
#define MSR_VMX_EPT_VPID_CAP 0x48c
#define MSR_VMX_TRUE_PINBASED 0x48d
#define MSR_VMX_CR0_FIXED0 0x486
#define MSR_VMX_CR0_FIXED1 0x487
#define MSR_VMX_CR4_FIXED0 0x488
#define MSR_VMX_CR4_FIXED1 0x489
#define VMX_BASIC_TRUE_CTLS BIT(55)
#define PIN_POSTED_INTR BIT(7)
#define PROC2_EPT BIT(1)
#define PROC2_VPID BIT(5)
#define PROC2_UNRESTRICTED BIT(7)
#define PROC2_APIC_REG_VIRT BIT(8)
#define PROC2_VIRT_INTR_DELIVERY BIT(9)
#define EPT_CAP_2M BIT(16)
#define EPT_CAP_1G BIT(17)
#define EPT_CAP_AD BIT(21)

static const char *yn(u64 v, u64 bit)
{
	return (v & bit) ? "yes" : "no";
}

static int vmxon(u64 region)
{
	u8 fail;

	__asm__ volatile("vmxon %1; setna %0" : "=q"(fail) : "m"(region) : "cc", "memory");
	return fail ? -EIO : 0;
}

int vmx_cpu_enable(struct percpu *pc);
int vmx_cpu_enable(struct percpu *pc)
{
	u64 basic = rdmsr(MSR_VMX_BASIC), fc = rdmsr(MSR_FEATURE_CONTROL);
	u64 pin = rdmsr((basic & VMX_BASIC_TRUE_CTLS) ? MSR_VMX_TRUE_PINBASED : MSR_VMX_PINBASED);
	u64 proc2 = rdmsr(MSR_VMX_PROCBASED2) >> 32, ept = rdmsr(MSR_VMX_EPT_VPID_CAP);
	u32 *region = page_alloc_zeroed(1);

	if (!region)
		return -ENOMEM;
	/* OVMF leaves the MSR unlocked; set VMX outside SMX and lock it (SDM 3C 24.7) */
	if (!(fc & FC_LOCKED))
		wrmsr(MSR_FEATURE_CONTROL, fc | FC_LOCKED | FC_VMXON_OUTSIDE_SMX);
	write_cr0((read_cr0() | rdmsr(MSR_VMX_CR0_FIXED0)) & rdmsr(MSR_VMX_CR0_FIXED1));
	write_cr4((read_cr4() | rdmsr(MSR_VMX_CR4_FIXED0) | CR4_VMXE) & rdmsr(MSR_VMX_CR4_FIXED1));
	region[0] = (u32)basic & 0x7fffffff; /* VMCS revision identifier */
	pc->virt_area = virt_to_phys(region);
	if (vmxon(pc->virt_area)) {
		format_snprintf(pc->virt_report, sizeof(pc->virt_report), "VT-x: VMXON failed");
		return -EIO;
	}
	format_snprintf(pc->virt_report, sizeof(pc->virt_report),
			"VT-x rev %u, EPT %s (2M %s, 1G %s, A/D %s), VPID %s, unrestricted guest %s, "
			"APIC-register virt %s, virtual interrupt delivery %s, posted interrupts %s: enabled",
			(u32)basic & 0x7fffffff, yn(proc2, PROC2_EPT), yn(ept, EPT_CAP_2M),
			yn(ept, EPT_CAP_1G), yn(ept, EPT_CAP_AD), yn(proc2, PROC2_VPID),
			yn(proc2, PROC2_UNRESTRICTED), yn(proc2, PROC2_APIC_REG_VIRT),
			yn(proc2, PROC2_VIRT_INTR_DELIVERY), yn(pin >> 32, PIN_POSTED_INTR));
	return 0;
}

/* Until the VT-x vCPU code exists, VMs cannot be created on Intel CPUs (vm_create says so). */
const struct vcpu_ops vmx_ops = {
	.name = "VT-x",
	.cpu_enable = vmx_cpu_enable,
};
