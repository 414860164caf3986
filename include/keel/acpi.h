/* SPDX-License-Identifier: MIT */
/* ACPI tables as the hypervisor reads them (ACPI 6.5 ch. 5) and what it learns from them. */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <keel/types.h>

#define ACPI_MAX_CPUS 64
#define ACPI_MAX_IOAPICS 8
#define ACPI_MAX_OVERRIDES 16
#define ACPI_MAX_TABLES 64

struct acpi_rsdp { /* ACPI 6.5 5.2.5.3 */
	char signature[8];
	u8 checksum;
	char oem_id[6];
	u8 revision;
	u32 rsdt;
	u32 length;
	u64 xsdt;
	u8 ext_checksum;
	u8 reserved[3];
} __packed;
BUILD_ASSERT(sizeof(struct acpi_rsdp) == 36, "ACPI 6.5 table 5.3");

struct acpi_header { /* ACPI 6.5 5.2.6 */
	char signature[4];
	u32 length;
	u8 revision;
	u8 checksum;
	char oem_id[6];
	char oem_table_id[8];
	u32 oem_revision;
	u32 creator_id;
	u32 creator_revision;
} __packed;
BUILD_ASSERT(sizeof(struct acpi_header) == 36, "ACPI 6.5 table 5.4");

struct acpi_gas { /* generic address structure, ACPI 6.5 5.2.3.2 */
	u8 space; /* 0 memory, 1 I/O */
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
BUILD_ASSERT(sizeof(struct acpi_gas) == 12, "ACPI 6.5 table 5.1");

#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO 1

struct acpi_cpu {
	u32 apic_id;
	u32 uid;
	bool enabled;
};

struct acpi_ioapic {
	u32 id;
	u32 address;
	u32 gsi_base;
};

struct acpi_override { /* an ISA IRQ routed to another GSI */
	u8 source;
	u32 gsi;
	u16 flags;
};

struct acpi_info {
	u64 rsdp;
	u32 nr_cpus;
	struct acpi_cpu cpus[ACPI_MAX_CPUS];
	u64 lapic_base;
	bool pcat_compat; /* legacy 8259 PICs present */
	u32 nr_ioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	u32 nr_overrides;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	/* FADT */
	u64 fadt, dsdt;
	bool hw_reduced;
	u16 sci_irq;
	u16 pm_timer_port; /* 0: none */
	bool pm_timer_32bit;
	u16 pm1a_cnt, pm1b_cnt;
	struct acpi_gas reset_reg;
	u8 reset_value;
	bool reset_supported;
	u8 century; /* CMOS index, 0: none */
	u16 boot_arch;
	/* others */
	u64 hpet_base;
	u64 mcfg_base;
	u16 mcfg_segment;
	u8 mcfg_bus_start, mcfg_bus_end;
	u64 dmar, ivrs; /* IOMMU tables, 0 if absent */
};

/* Reads RSDP, XSDT/RSDT, MADT, FADT, HPET and MCFG; -EINVAL with a log line on bad tables. */
int acpi_parse(u64 rsdp_pa, struct acpi_info *info);
/* Physical addresses of the tables the XSDT (or RSDT) lists, up to max; returns the count. */
u32 acpi_tables(u64 rsdp_pa, u64 *out, u32 max);
/* The idx-th table with this signature, or NULL; checksums verified. */
const struct acpi_header *acpi_find(u64 rsdp_pa, const char *sig, u32 idx);
bool acpi_checksum_ok(const void *p, u32 len);
/* SLP_TYPa of \\_S5_ (soft off) from AML such as the DSDT's body; -ENOENT if absent. */
int acpi_s5_slp_typ(const u8 *aml, u32 len, u8 *slp_typ);

#endif
