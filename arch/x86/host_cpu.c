// SPDX-License-Identifier: MIT
/* The host CPU's CPUID and MSRs as vmm/ reaches them: out of line, so host unit tests can play the CPU. */
#include <arch/x86/cpu.h>

struct cpuid_regs host_cpuid(u32 leaf, u32 subleaf)
{
	return cpuid_count(leaf, subleaf);
}

u64 host_rdmsr(u32 msr)
{
	return rdmsr(msr);
}

void host_wrmsr(u32 msr, u64 val)
{
	wrmsr(msr, val);
}
