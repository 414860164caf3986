/* SPDX-License-Identifier: MIT */
/* Synthetic ACPI tables for guest VMs: a HW-reduced platform described by struct guest_platform. */
#ifndef KEEL_GUEST_ACPI_H
#define KEEL_GUEST_ACPI_H

#include <lib/types.h>

#define GUEST_ACPI_MAX_VCPUS 4096 /* processor devices \_SB.C000 to \_SB.CFFF */

/*
 * The guest platform the tables describe. A zero port leaves that
 * register out (pm_timer_port, sleep_ctl_port/sleep_sts_port, reset_port,
 * com1_port); a zero size leaves that PCI window out.
 */
struct guest_platform {
	u32 nr_vcpus;	 /* APIC IDs 0..n-1; use x2APIC MADT entries (type 9) */
	u64 ioapic_base; /* below 4 GiB: the MADT field is 32 bits */
	u8 ioapic_id;
	u32 ioapic_gsi_base;
	u64 ecam_base; /* ECAM for buses 0..bus_end (MCFG) */
	u8 bus_end;
	u64 mmio32_base, mmio32_size; /* PCI host bridge windows for _CRS */
	u64 mmio64_base, mmio64_size;
	u16 io_base, io_size;		    /* PCI I/O window */
	u16 pm_timer_port;		    /* 32-bit PM timer (FADT X_PM_TMR_BLK) */
	u16 sleep_ctl_port, sleep_sts_port; /* FADT SLEEP_CONTROL_REG / SLEEP_STATUS_REG */
	u16 reset_port;			    /* FADT RESET_REG */
	u8 reset_value;
	u32 ged_gsi; /* GED interrupt (edge, active high) */
	u16 com1_port;
	u32 com1_gsi;
};

/*
 * The sleep registers as the guest uses them (ACPI 6.5 4.8.3.7, tables
 * 4.19 and 4.20): to power off it writes SLP_EN with SLP_TYP = the \_S5
 * value to sleep_ctl_port; WAK_STS in sleep_sts_port is write-1-to-clear.
 */
#define GUEST_ACPI_S5_SLP_TYP 5
#define GUEST_ACPI_SLEEP_SLP_TYP(ctl) (((ctl) >> 2) & 7)
#define GUEST_ACPI_SLEEP_SLP_EN BIT(5)
#define GUEST_ACPI_SLEEP_WAK_STS BIT(7)

/*
 * Lays out RSDP (at offset 0, ACPI 2.0+), XSDT, FADT (HW_REDUCED_ACPI, no
 * legacy PM1 blocks, X_DSDT), MCFG, MADT and DSDT into buf, which the
 * caller copies to guest-physical table_gpa (all pointers inside use
 * table_gpa + offset). Returns bytes used, -EINVAL for a platform the
 * tables cannot describe, or -ENOSPC. About 1 KiB plus 45 bytes a vCPU.
 */
int guest_acpi_build(const struct guest_platform *p, u64 table_gpa, u8 *buf, size_t size);

#define GUEST_ACPI_TABLES 5   /* XSDT, FADT, MCFG, MADT, DSDT */
#define GUEST_ACPI_POINTERS 5 /* RSDP->XSDT, XSDT->FADT/MCFG/MADT, FADT->DSDT */

/*
 * What a firmware's table loader needs to move the tables elsewhere (fw_cfg's
 * etc/table-loader): each table's place in buf, and the fields that hold
 * table_gpa + an offset in buf. The RSDP is at offset 0, the tables follow
 * from tables_start on.
 */
struct guest_acpi_layout {
	u32 rsdp_len, tables_start;
	struct {
		u32 off, len;
	} table[GUEST_ACPI_TABLES];
	struct {
		u32 off, size;
	} pointer[GUEST_ACPI_POINTERS];
};

/* The layout of what guest_acpi_build() wrote to buf for p. */
void guest_acpi_layout(const struct guest_platform *p, const u8 *buf, struct guest_acpi_layout *l);

#endif
