/* SPDX-License-Identifier: MIT */
/* The privileged service VM: stock Linux, identity-mapped RAM, the machine's own ACPI tables. */
#ifndef KEEL_SERVICE_VM_H
#define KEEL_SERVICE_VM_H

#include <keel/acpi.h>
#include <keel/boot_info.h>
#include <keel/linux_boot.h>

#define SERVICE_MAX_RAM 32

/* What the service VM owns, decided before it is built. */
struct service_layout {
	u32 nr_ram;
	struct {
		hpa_t base;
		u64 size;
	} ram[SERVICE_MAX_RAM]; /* GPA = HPA */
	gpa_t boot_area;
	hpa_t acpi_page; /* the rewritten RSDP, XSDT and MADT */
	u32 nr_e820;
	struct e820_entry e820[E820_MAX];
};

/* Builds, loads and starts the service VM, or says why it cannot. */
int service_vm_start(struct boot_info *bi, const struct acpi_info *ai);

/* vmm/service/service_mem.c */
int service_mem_alloc(struct service_layout *sl, const struct boot_info *bi, u64 bytes);
int service_mem_e820(struct service_layout *sl, const struct boot_info *bi);
int service_mem_map(struct vm *vm, const struct service_layout *sl, const struct boot_info *bi,
		    const struct acpi_info *ai);
/* vmm/service/service_acpi.c: returns the RSDP's address */
u64 service_acpi_build(const struct service_layout *sl, const struct acpi_info *ai, u32 vcpus);

#endif
