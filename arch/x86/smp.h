/* SPDX-License-Identifier: MIT */
/* Starting the application processors and running code on every CPU. */
#ifndef ARCH_X86_SMP_H
#define ARCH_X86_SMP_H

#include <arch/x86/percpu.h>
#include <keel/acpi.h>

/* What each CPU runs once its tables and APIC are up; must not return. */
typedef void (*cpu_main_fn)(struct percpu *pc);

/* Starts every enabled CPU in the MADT other than the caller, one at a time. */
void smp_boot(const struct acpi_info *ai, u64 trampoline_pa, cpu_main_fn ap_main);

#endif
