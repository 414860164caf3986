/* SPDX-License-Identifier: MIT */
/* ACPI tables as the hypervisor reads them (ACPI 6.5 ch. 5) and what it learns from them. */
#ifndef KEEL_ACPI_H
#define KEEL_ACPI_H

#include <lib/types.h>

/* ACPI 6.5 5.2.12: the MADT's interrupt controller structures and flags. */
#define MADT_ENTRIES_OFFSET 44 /* after the header, the local APIC address and flags */
#define MADT_LAPIC 0	       /* 5.2.12.2 */
#define MADT_IOAPIC 1	       /* 5.2.12.3 */
#define MADT_OVERRIDE 2	       /* 5.2.12.5 */
#define MADT_LAPIC_NMI 4       /* 5.2.12.7 */
#define MADT_LAPIC_ADDRESS 5   /* 5.2.12.8 */
#define MADT_X2APIC 9	       /* 5.2.12.12 */
#define MADT_CPU_ENABLED BIT(0)
#define MADT_CPU_ONLINE_CAPABLE BIT(1)
#define MADT_PCAT_COMPAT BIT(0)

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
#define ACPI_GAS_ACCESS_BYTE 1 /* ACPI 6.5 5.2.3.2 Access Size */
#define ACPI_GAS_ACCESS_DWORD 3

/* ACPI 6.5 5.2.9, Fixed ACPI Description Table Fixed Feature Flags */
#define FADT_PWR_BUTTON BIT(4)	/* the power button is a device (PNP0C0C), not fixed */
#define FADT_SLP_BUTTON BIT(5)	/* no fixed sleep button */
#define FADT_TMR_VAL_EXT BIT(8) /* the PM timer counts 32 bits */
#define FADT_RESET_REG_SUP BIT(10)
#define FADT_HW_REDUCED BIT(20)

struct acpi_fadt { /* ACPI 6.5 5.2.9 */
	struct acpi_header h;
	u32 firmware_ctrl; /* 36: no FACS, allowed when HW-reduced (5.2.10) */
	u32 dsdt;	   /* 40: 0, X_DSDT is used */
	u8 reserved0, pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk; /* 56: no legacy PM1 blocks */
	u32 pm1a_cnt_blk, pm1b_cnt_blk;
	u32 pm2_cnt_blk;
	u32 pm_tmr_blk; /* 76 */
	u32 gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len;
	u8 pm_tmr_len; /* 91 */
	u8 gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch; /* 109 */
	u8 reserved1;
	u32 flags;		   /* 112 */
	struct acpi_gas reset_reg; /* 116 */
	u8 reset_value;		   /* 128 */
	u16 arm_boot_arch;
	u8 minor_version; /* 131 */
	u64 x_firmware_ctrl;
	u64 x_dsdt;			/* 140 */
	struct acpi_gas x_pm1a_evt_blk; /* 148 */
	struct acpi_gas x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk, x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk; /* 208 */
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control; /* 244 */
	struct acpi_gas sleep_status;  /* 256 */
	u64 hypervisor_id;	       /* 268 */
} __packed;
BUILD_ASSERT(offsetof(struct acpi_fadt, dsdt) == 40, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, pm1a_evt_blk) == 56, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, pm_tmr_len) == 91, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, iapc_boot_arch) == 109, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, flags) == 112, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, reset_reg) == 116, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, reset_value) == 128, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, minor_version) == 131, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, x_dsdt) == 140, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, x_pm1a_evt_blk) == 148, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, sleep_control) == 244, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, sleep_status) == 256, "ACPI 6.5 5.2.9");
BUILD_ASSERT(offsetof(struct acpi_fadt, hypervisor_id) == 268, "ACPI 6.5 5.2.9");
BUILD_ASSERT(sizeof(struct acpi_fadt) == 276, "ACPI 6.5 5.2.9");

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

struct acpi_range {
	u64 base, size;
};

/* Reads RSDP, XSDT/RSDT, MADT, FADT, HPET and MCFG; -EINVAL with a log line on bad tables. */
int acpi_parse(u64 rsdp_pa, struct acpi_info *info);
/* Physical addresses of the tables the XSDT (or RSDT) lists, up to max; returns the count. */
u32 acpi_tables(u64 rsdp_pa, u64 *out, u32 max);
/* The idx-th table with this signature, or NULL; checksums verified. */
const struct acpi_header *acpi_find(u64 rsdp_pa, const char *sig, u32 idx);
bool acpi_checksum_ok(const void *p, u32 len);
/* The IOMMUs' register blocks (DMAR DRHDs, IVRS IVHDs), up to max; returns the count. */
u32 acpi_iommu_blocks(const struct acpi_info *ai, struct acpi_range *out, u32 max);
/* SLP_TYPa of \\_S5_ (soft off) from AML such as the DSDT's body; -ENOENT if absent. */
int acpi_s5_slp_typ(const u8 *aml, u32 len, u8 *slp_typ);

#endif
