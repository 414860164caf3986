/* SPDX-License-Identifier: MIT */
/* A model of one AMD-Vi unit behind the register accessors (AMD IOMMU 3.08 3.4 and 2.4, as QEMU's amd-iommu behaves), for the AMD-Vi unit tests. */
#ifndef TESTS_UNIT_IOMMU_AMD_MODEL_H
#define TESTS_UNIT_IOMMU_AMD_MODEL_H

#include "iommu/amd/amd_regs.h"

#define MAX_CMDS 1024

struct amd_model {
	u64 ctrl, status, efr, excl_base, excl_limit;
	u64 dev_table, cmd_base, cmd_head, cmd_tail, evt_base, evt_head, evt_tail;
	u64 ctrl_writes[16];
	u32 nr_ctrl_writes;
	u64 cmd[MAX_CMDS][2];  /* every command done, in order */
	u64 dte0_at[MAX_CMDS]; /* for INVALIDATE_DEVTAB_ENTRY: the entry's first quadword then */
	u64 dte2_at[MAX_CMDS]; /* ... and for both invalidations, its interrupt quadword */
	u64 irte_at[MAX_CMDS]; /* for INVALIDATE_INTERRUPT_TABLE: entry watch_index's first quadword */
	u32 watch_index;
	u32 nr_cmds;
	u32 errors; /* what the manual forbids */
	bool stall; /* the buffer does not advance */
};

extern struct amd_model hw;
extern u64 now_ns;	       /* every look at the clock is 1 ms later */
extern bool x2apic;	       /* what apic_x2apic() says */
extern char monitor_out[4096]; /* what the monitor printed */
extern struct acpi_info ai;    /* QEMU's IVRS (load_ivrs), its unit at the model's registers */
extern u8 cfg[256];	       /* the unit's PCI function: config space, MSI capability at 0x40 */
extern u32 msis;	       /* the MSIs the unit sent */

u64 *dte_of(u16 devid);
/* devid's interrupt remapping entry idx, as the unit reads it (16 bytes with GAEn, else 4) */
u64 irte_of(u16 devid, u32 idx);
/* QEMU 7.2's IVRS with an IVMD for 00:02.0 and 03:00.0 aliased to 00:05.0 */
void load_ivrs(void);
/* Commands of an opcode done since index from. */
u32 count_cmds(u32 from, u64 op);
/* The unit records an event at its log's tail. */
void event(u64 q0, u64 q1);

#endif
