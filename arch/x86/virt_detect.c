// SPDX-License-Identifier: MIT
/* Detects AMD-V or VT-x and whether the firmware left it usable. */
#include <arch/x86/cpu.h>
#include <lib/string.h>
#include <keel/virt_detect.h>

void virt_detect(struct virt_support *vs)
{
	struct cpuid_regs r = cpuid(0);
	u32 max_ext = cpuid(0x80000000).eax;

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
		return;
	}
	vs->problem = "this CPU has neither AMD-V (SVM) nor Intel VT-x (VMX)";
}
