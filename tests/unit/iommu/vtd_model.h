/* SPDX-License-Identifier: MIT */
/* A model of one VT-d unit behind the register accessors (as QEMU's intel-iommu behaves, VT-d 10.4), for the VT-d unit tests. */
#ifndef TESTS_UNIT_IOMMU_VTD_MODEL_H
#define TESTS_UNIT_IOMMU_VTD_MODEL_H

#include "iommu/vtd/vtd_regs.h"
#include <keel/monitor.h>

#define NFR 2
#define FRO 0x220

struct vtd_model {
	u64 cap, ecap;
	u32 gsts, fsts, fectl;
	u32 fedata, feaddr, feuaddr;
	u32 fault_events; /* fault event MSIs sent (7.3.1: a fault while PPF clear, unmasked) */
	u64 rtaddr, root, iqa, iqh, iqt;
	u64 irta, irt;	  /* the address register, and the table latched by SIRTP */
	bool iec_flushed; /* a global interrupt entry cache invalidation since SIRTP */
	u64 frcd[NFR][2];
	u32 gcmds[32], nr_gcmds; /* the commands, in order */
	u64 desc[256][2];	 /* every descriptor done, in order */
	u32 nr_desc;
	u32 errors; /* commands the manual forbids */
	bool stall; /* the queue does not advance */
};

extern struct vtd_model hw, hw1;	       /* hw1: the second unit of load_dmar_two_segments */
extern u64 now_ns;			       /* every look at the clock is 1 ms later */
extern bool x2apic;			       /* what apic_x2apic() says */
extern char monitor_out[4096];		       /* what the monitor printed */
extern const struct monitor_cmd *monitor_cmds; /* what iommu.c registered: `iommu` */
extern struct acpi_info ai; /* QEMU's DMAR (load_dmar), its unit at the model's registers */

void hw_reset(void);  /* QEMU 7.2's unit, off */
void queue_run(void); /* does the queued descriptors, unless stalled */
void update_ppf(void);
void load_dmar(void); /* QEMU's DMAR, and an RMRR for 00:02.0 and 00:03.0 */
/* That, and a second unit (the model hw1) for all of PCI segment 1. */
void load_dmar_two_segments(void);
/* Descriptors of a type done since index from. */
u32 count_desc(u32 from, u64 type);
/* A fault in recording register i. */
void record(u32 i, u64 addr, u16 sid, u8 reason, bool read);

#endif
