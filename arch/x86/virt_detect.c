// SPDX-License-Identifier: MIT
/* Detects AMD-V or VT-x and whether the firmware left it usable. */
#include <arch/x86/cpu.h>
#include <arch/x86/virt.h>
#include <lib/format.h>
#include <lib/string.h>
#include <keel/virt_detect.h>

/* VT-x without unrestricted guest (before Westmere) or EPT cannot run real-mode guests natively. */
static const char *vmx_problem(const char *missing)
{
	static char why[128];

	format_snprintf(why, sizeof(why), "Intel VT-x without %s, which Keel needs", missing);
	return why;
}

void virt_detect(struct virt_support *vs)
{
	struct cpuid_regs r = cpuid(0);
	u32 max_ext = cpuid(0x80000000).eax;
	const char *missing;

	memset(vs, 0, sizeof(*vs));
	memcpy(vs->vendor + 0, &r.ebx, 4);
	memcpy(vs->vendor + 4, &r.edx, 4);
	memcpy(vs->vendor + 8, &r.ecx, 4);
	if (max_ext >= 0x80000001 && (cpuid(0x80000001).ecx & CPUID_80000001_ECX_SVM)) {
		vs->kind = VIRT_SVM;
		if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS)
			vs->problem =
				"AMD-V (SVM) is disabled in the firmware settings (VM_CR.SVMDIS)";
		return;
	}
	if (cpuid(1).ecx & CPUID_1_ECX_VMX) {
		u64 fc = rdmsr(MSR_FEATURE_CONTROL);

		vs->kind = VIRT_VMX;
		if ((fc & FEATURE_CONTROL_LOCKED) && !(fc & FEATURE_CONTROL_VMXON_OUTSIDE_SMX))
			vs->problem =
				"Intel VT-x is disabled in the firmware settings (IA32_FEATURE_CONTROL locked without VMX)";
		else if ((missing = vmx_missing()))
			vs->problem = vmx_problem(missing);
		return;
	}
	vs->problem = "this CPU has neither AMD-V (SVM) nor Intel VT-x (VMX)";
}
