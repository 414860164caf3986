/* SPDX-License-Identifier: MIT */
/* The IOMMUs as ACPI describes them: DMAR (VT-d 4.1 ch. 8) and IVRS (AMD IOMMU 3.08 ch. 5), parsed. */
#ifndef KEEL_IOMMU_ACPI_H
#define KEEL_IOMMU_ACPI_H

#include <lib/types.h>

#define IOMMU_MAX_UNITS 8
#define DMAR_MAX_SCOPES 32 /* device scopes per DRHD or RMRR */
#define DMAR_MAX_RMRRS 16
#define DMAR_MAX_PATH 8	     /* (device, function) hops of one device scope */
#define IVRS_MAX_RANGES 64   /* device-id ranges per IVHD (one selected device is a range of 1) */
#define IVRS_MAX_SPECIALS 16 /* IOAPICs and HPETs per IVHD */
#define IVRS_MAX_IVMDS 16

/* The two tables share the header and a 12-byte table field block (VT-d 8.1, AMD 5.2.1). */
#define IOMMU_ACPI_BODY 48

/* --- DMAR: VT-d 4.1 8.1 to 8.5 --- */
#define DMAR_HAW_OFFSET 36 /* host address width - 1 */
#define DMAR_FLAGS_OFFSET 37
#define DMAR_F_INTR_REMAP BIT(0) /* 8.1 */
#define DMAR_F_X2APIC_OPT_OUT BIT(1)
#define DMAR_F_DMA_CTRL_OPT_IN BIT(2)
#define DMAR_TYPE_DRHD 0 /* 8.3 */
#define DMAR_TYPE_RMRR 1 /* 8.4 */
#define DMAR_TYPE_ATSR 2 /* 8.5 */
#define DMAR_DRHD_INCLUDE_PCI_ALL BIT(0)
#define DMAR_DRHD_SIZE_MASK 0xf /* 8.3 "Size": 2^N 4 KiB pages of registers */
#define DMAR_DRHD_SCOPES 16	/* offset of the device scopes */
#define DMAR_RMRR_SCOPES 24
#define DMAR_SCOPE_HEADER 6   /* 8.3.1: type, length, flags, reserved, enumeration id, bus */
#define DMAR_SCOPE_ENDPOINT 1 /* 8.3.1 table 8-? "Type" */
#define DMAR_SCOPE_BRIDGE 2   /* a PCI sub-hierarchy */
#define DMAR_SCOPE_IOAPIC 3
#define DMAR_SCOPE_HPET 4
#define DMAR_SCOPE_ACPI 5

struct dmar_scope {
	u8 type;    /* DMAR_SCOPE_* */
	u8 enum_id; /* IOAPIC id, HPET number, ACPI device number */
	u8 bus;	    /* the start bus */
	u8 path_len;
	u8 path[DMAR_MAX_PATH]; /* devfn of each hop: (device << 3) | function */
};

struct dmar_unit { /* one DRHD */
	u64 base;
	u64 size; /* bytes of registers */
	u16 segment;
	bool include_all; /* every function of the segment no other unit lists */
	u32 nr_scopes;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_rmrr { /* memory a device uses behind the OS's back (USB legacy, ...) */
	u16 segment;
	u64 base, limit; /* limit: the last byte */
	u32 nr_scopes;
	struct dmar_scope scopes[DMAR_MAX_SCOPES];
};

struct dmar_info {
	u8 haw; /* host address width, bits */
	bool intr_remap, x2apic_opt_out;
	u32 nr_units;
	struct dmar_unit units[IOMMU_MAX_UNITS];
	u32 nr_rmrrs;
	struct dmar_rmrr rmrrs[DMAR_MAX_RMRRS];
	u32 nr_other; /* structures of other types (ATSR, RHSA, ANDD, SATC...), skipped */
};

/*
 * Parses a DMAR table of len bytes (header included). -EINVAL for a
 * structure that does not fit the table or its own length, -E2BIG past
 * Keel's limits; *out is then not to be used.
 */
int dmar_parse(const void *table, u32 len, struct dmar_info *out);

/* --- IVRS: AMD IOMMU 3.08 5.2 --- */
#define IVRS_IVINFO_OFFSET 36
#define IVRS_IVINFO_PASIZE(v) (((v) >> 8) & 0x7f) /* 5.2.1 table 92 */
#define IVRS_IVINFO_VASIZE(v) (((v) >> 15) & 0x7f)
#define IVRS_TYPE_IVHD_10 0x10 /* 5.2.2.1 */
#define IVRS_TYPE_IVHD_11 0x11
#define IVRS_TYPE_IVHD_40 0x40
#define IVRS_TYPE_IVMD_ALL 0x20 /* 5.2.2.3: all peripherals */
#define IVRS_TYPE_IVMD_ONE 0x21 /* a specified peripheral */
#define IVRS_TYPE_IVMD_RANGE 0x22
#define IVHD_10_ENTRIES 24 /* offset of the device entries */
#define IVHD_11_ENTRIES 40
#define IVHD_DEV_PAD 0 /* 5.2.2.2 table 95: device entry types */
#define IVHD_DEV_ALL 1
#define IVHD_DEV_SELECT 2
#define IVHD_DEV_RANGE_START 3
#define IVHD_DEV_RANGE_END 4
#define IVHD_DEV_ALIAS_SELECT 0x42
#define IVHD_DEV_ALIAS_RANGE 0x43
#define IVHD_DEV_EXT_SELECT 0x46
#define IVHD_DEV_EXT_RANGE 0x47
#define IVHD_DEV_SPECIAL 0x48
#define IVHD_DEV_ACPI_HID 0xf0
#define IVHD_SPECIAL_IOAPIC 1
#define IVHD_SPECIAL_HPET 2
#define IVMD_F_UNITY BIT(0) /* 5.2.2.3 table 101 */
#define IVMD_F_READ BIT(1)
#define IVMD_F_WRITE BIT(2)
#define IVMD_F_EXCLUSION BIT(3)
#define IVRS_DEVID_NONE 0xffffffffu

/* Device ids (bus << 8 | devfn) first..last, whose requests arrive as `alias` if not NONE. */
struct ivrs_range {
	u16 first, last;
	u8 dte;	   /* the DTE setting byte: INITPass, EIntPass, NMIPass, SysMgt, Lint0/1Pass */
	u32 alias; /* IVRS_DEVID_NONE or the device id the IOMMU sees */
};

struct ivrs_special { /* an IOAPIC or HPET and its device id */
	u8 variety;   /* IVHD_SPECIAL_* */
	u8 handle;    /* IOAPIC id or HPET number */
	u16 devid;
	u8 dte;
};

struct ivrs_unit { /* one IOMMU, from its IVHD of the highest type Keel reads */
	u8 type, flags;
	u16 devid; /* the IOMMU's own PCI function */
	u16 cap_offset;
	u64 base;
	u16 segment;
	u16 info;
	u32 attributes; /* 10h: IOMMU feature info; 11h: IOMMU attributes */
	u64 efr;	/* 11h: a copy of the extended feature register; 0 for 10h */
	u32 nr_ranges;
	struct ivrs_range ranges[IVRS_MAX_RANGES];
	u32 nr_specials;
	struct ivrs_special specials[IVRS_MAX_SPECIALS];
	u32 nr_acpi; /* ACPI HID devices (F0h), skipped */
};

struct ivrs_ivmd {
	u8 type, flags;
	u16 first, last; /* the device ids it applies to */
	u64 base, length;
};

struct ivrs_info {
	u32 ivinfo;
	u32 nr_units;
	struct ivrs_unit units[IOMMU_MAX_UNITS];
	u32 nr_ivmds;
	struct ivrs_ivmd ivmds[IVRS_MAX_IVMDS];
	u32 nr_other; /* IVHD 40h and unknown types, skipped */
};

/* Parses an IVRS table of len bytes, with dmar_parse's errors. */
int ivrs_parse(const void *table, u32 len, struct ivrs_info *out);

#endif
