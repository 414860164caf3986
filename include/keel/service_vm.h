/* SPDX-License-Identifier: MIT */
/* The privileged service VM: stock Linux, identity-mapped RAM, the machine's own ACPI tables. */
#ifndef KEEL_SERVICE_VM_H
#define KEEL_SERVICE_VM_H

#include <keel/acpi.h>
#include <keel/boot_info.h>
#include <keel/linux_boot.h>
#include <keel/pci.h>

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

/* vmm/service/service_map.c: what of the physical address space it reaches */
/* Maps its RAM and the platform ranges it needs; nothing else. */
int service_map_init(struct vm *vm, const struct service_layout *sl, const struct boot_info *bi,
		     const struct acpi_info *ai);
/*
 * May a BAR of its own be decoded at [base, base + size)? If not, why (for a log
 * line). A bridge's window may also hold BARs of functions it does not own.
 */
bool service_map_place_ok(u64 base, u64 size, bool window, char *why, size_t len);
/* A range whose mapping another part of Keel decides (a trap, the control device's BARs). */
void service_map_claim(u64 base, u64 size);
void service_map_unclaim(u64 base, u64 size);
/* The spans function idx (in pci_funcs) decodes now, checked with service_map_place_ok. */
void service_map_set_fn(u32 idx, const struct pci_span *spans);
/* The BARs of function idx, which the service VM does not own: never mapped. */
void service_map_set_foreign(u32 idx, const struct pci_span *spans);
/* vmm/service/service_acpi.c: returns the RSDP's address */
u64 service_acpi_build(const struct service_layout *sl, const struct acpi_info *ai, u32 vcpus);

#endif
