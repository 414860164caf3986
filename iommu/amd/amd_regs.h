/* SPDX-License-Identifier: MIT */
/* AMD-Vi's registers and in-memory structures (AMD IOMMU spec 48882, 3.08: ch. 2 and 3), for iommu/amd/ only. */
#ifndef IOMMU_AMD_REGS_H
#define IOMMU_AMD_REGS_H

#include <keel/iommu.h>
#include <keel/iommu_acpi.h>

/* 3.4: MMIO register offsets (64-bit registers) */
#define AMD_DEV_TABLE_BASE 0x0000
#define AMD_CMD_BUF_BASE 0x0008
#define AMD_EVENT_LOG_BASE 0x0010
#define AMD_CONTROL 0x0018
#define AMD_EXCL_BASE 0x0020
#define AMD_EXCL_LIMIT 0x0028
#define AMD_EXT_FEATURES 0x0030
#define AMD_CMD_BUF_HEAD 0x2000
#define AMD_CMD_BUF_TAIL 0x2008
#define AMD_EVENT_LOG_HEAD 0x2010
#define AMD_EVENT_LOG_TAIL 0x2018
#define AMD_STATUS 0x2020
#define AMD_MMIO_SIZE 0x4000 /* the registers Keel uses; counters beyond are not mapped */

/* 3.4 Device Table Base Address Register: Size (bits 8:0) is the table's 4 KiB pages - 1 */
#define AMD_DEV_TABLE_SIZE_MAX 0x1ff /* 512 pages: 65536 entries of 32 bytes */
/* 3.4 Command Buffer and Event Log Base Address Registers: 2^N entries in bits 59:56 */
#define AMD_RING_LEN_SHIFT 56
#define AMD_RING_LEN_4K 8ULL /* 256 entries of 16 bytes: one page */
#define AMD_RING_ENTRIES 256
#define AMD_RING_ENTRY 16
#define AMD_RING_PTR_MASK GENMASK(18, 4) /* head and tail: byte offsets */

/* 3.4 IOMMU Control Register */
#define AMD_CTRL_IOMMU_EN BIT(0)
#define AMD_CTRL_HT_TUN_EN BIT(1)
#define AMD_CTRL_EVENT_LOG_EN BIT(2)
#define AMD_CTRL_EVENT_INT_EN BIT(3)
#define AMD_CTRL_COM_WAIT_INT_EN BIT(4)
#define AMD_CTRL_COHERENT BIT(10) /* device table reads snoop the CPU's caches */
#define AMD_CTRL_CMD_BUF_EN BIT(12)
#define AMD_CTRL_PPR_LOG_EN BIT(13)
#define AMD_CTRL_PPR_EN BIT(15)
#define AMD_CTRL_GT_EN BIT(16)
#define AMD_CTRL_GA_EN BIT(17) /* 128-bit interrupt remapping entries (2.2.5.2) */
#define AMD_CTRL_XT_EN BIT(50) /* x2APIC: 32-bit destinations in those entries */
/* What the firmware may have left on that Keel turns off before it sets the unit up. */
#define AMD_CTRL_TAKE_OVER                                                                        \
	(AMD_CTRL_IOMMU_EN | AMD_CTRL_EVENT_LOG_EN | AMD_CTRL_EVENT_INT_EN |                      \
	 AMD_CTRL_COM_WAIT_INT_EN | AMD_CTRL_CMD_BUF_EN | AMD_CTRL_PPR_LOG_EN | AMD_CTRL_PPR_EN | \
	 AMD_CTRL_GT_EN | AMD_CTRL_GA_EN | AMD_CTRL_XT_EN)

/* 3.4 IOMMU Exclusion Base Register */
#define AMD_EXCL_EN BIT(0)

/* 3.4 IOMMU Extended Feature Register */
#define AMD_EFR_PREF BIT(0)
#define AMD_EFR_PPR BIT(1)
#define AMD_EFR_XT BIT(2)
#define AMD_EFR_NX BIT(3)
#define AMD_EFR_GT BIT(4)
#define AMD_EFR_IA BIT(6) /* INVALIDATE_IOMMU_ALL */
#define AMD_EFR_GA BIT(7)
#define AMD_EFR_HE BIT(8)
#define AMD_EFR_PC BIT(9)

/* 3.4 IOMMU Status Register (the interrupt and overflow bits: write 1 to clear) */
#define AMD_STS_EVENT_OVERFLOW BIT(0)
#define AMD_STS_EVENT_LOG_INT BIT(1)
#define AMD_STS_COM_WAIT_INT BIT(2)
#define AMD_STS_EVENT_LOG_RUN BIT(3)
#define AMD_STS_CMD_BUF_RUN BIT(4)
#define AMD_STS_PPR_OVERFLOW BIT(5)
#define AMD_STS_PPR_INT BIT(6)
#define AMD_STS_CLEAR                                                            \
	(AMD_STS_EVENT_OVERFLOW | AMD_STS_EVENT_LOG_INT | AMD_STS_COM_WAIT_INT | \
	 AMD_STS_PPR_OVERFLOW | AMD_STS_PPR_INT)

/* 2.2.2 device table entry: 256 bits, 4 quadwords */
#define AMD_DTE_WORDS 4
#define AMD_DTE_ENTRIES 65536
#define AMD_DTE_V BIT(0)  /* the entry is valid: 0 lets DMA through untranslated */
#define AMD_DTE_TV BIT(1) /* translation information valid */
#define AMD_DTE_MODE_SHIFT 9
#define AMD_DTE_MODE(n) ((u64)(n) << AMD_DTE_MODE_SHIFT) /* levels of the tables; 0: none */
#define AMD_DTE_MODE_MASK GENMASK(11, 9)
#define AMD_DTE_ROOT GENMASK(51, 12) /* page table root pointer */
#define AMD_DTE_IR BIT(61)
#define AMD_DTE_IW BIT(62)
#define AMD_DTE_DOMAIN_MASK 0xffffULL /* quadword 1, bits 15:0 */
/* 2.2.2 (figure 7), quadword 2: the interrupt remapping fields (DTE bits 191:128) */
#define AMD_DTE_IV BIT(0)		    /* the interrupt fields are valid; 0: passed unmapped */
#define AMD_DTE_INT_TAB_LEN_SHIFT 1	    /* bits 4:1: the table has 2^n entries */
#define AMD_DTE_IG BIT(5)		    /* no IO_PAGE_FAULT event for an unmapped interrupt */
#define AMD_DTE_INT_TAB_ROOT GENMASK(51, 6) /* the table, 128-byte aligned */
#define AMD_DTE_INT_CTL_SHIFT 60	    /* bits 61:60, for fixed and arbitrated interrupts: */
#define AMD_DTE_INT_CTL_ABORT 0ULL	    /* 00b: target-aborted */
#define AMD_DTE_INT_CTL_PASS 1ULL	    /* 01b: forwarded unmapped */
#define AMD_DTE_INT_CTL_REMAP 2ULL	    /* 10b: remapped through the table */
#define AMD_DTE_INT_CTL_MASK (3ULL << AMD_DTE_INT_CTL_SHIFT)

/* 2.2.5.1: a 32-bit interrupt remapping entry (GAEn = 0) */
#define AMD_IRTE_REMAP_EN BIT(0)
#define AMD_IRTE_SUP_IOPF BIT(1)   /* no event when the entry refuses */
#define AMD_IRTE_INT_TYPE_SHIFT 2  /* bits 4:2: 000b fixed */
#define AMD_IRTE_DM BIT(6)	   /* logical destination */
#define AMD_IRTE_GUEST_MODE BIT(7) /* 128-bit format only: must be 0 (no virtual APIC) */
#define AMD_IRTE_DEST_SHIFT 8	   /* 32-bit: bits 15:8; 128-bit: destination[23:0] at 31:8 */
#define AMD_IRTE_VECTOR_SHIFT 16   /* 32-bit: bits 23:16; 128-bit: bits 71:64 */
#define AMD_IRTE_HI_DEST_SHIFT 56  /* 2.2.5.2, 128-bit: destination[31:24] at bits 127:120 */
#define AMD_IRT_ENTRIES 256	   /* the vectors: an entry's index is its vector */
#define AMD_IRT_LEN 8		   /* IntTabLen for 256 entries */

/* 2.2.3 I/O page table entries (PDE and PTE share the layout Keel uses) */
#define AMD_PTE_PR BIT(0)
#define AMD_PTE_OWNED BIT(1) /* bits 4:1 are ignored by the IOMMU: Keel's mark */
#define AMD_PTE_NEXT_SHIFT 9
#define AMD_PTE_NEXT_MASK GENMASK(11, 9) /* the next table's level; 0: a page */
#define AMD_PTE_ADDR GENMASK(51, 12)
#define AMD_PTE_FC BIT(60) /* force coherent: the DMA snoops */
#define AMD_PTE_IR BIT(61)
#define AMD_PTE_IW BIT(62)
#define AMD_LEVELS 4 /* a 48-bit space; every IOMMU translates at least 4 levels (EFR.HATS) */

/* 2.4: commands, 128 bits, the opcode in bits 63:60 of the first quadword */
#define AMD_CMD_OP_SHIFT 60
#define AMD_CMD_COMPLETION_WAIT (1ULL << AMD_CMD_OP_SHIFT)
#define AMD_CMD_INV_DEVTAB_ENTRY (2ULL << AMD_CMD_OP_SHIFT)
#define AMD_CMD_INV_IOMMU_PAGES (3ULL << AMD_CMD_OP_SHIFT)
#define AMD_CMD_INV_INT_TABLE (5ULL << AMD_CMD_OP_SHIFT)
#define AMD_CMD_INV_IOMMU_ALL (8ULL << AMD_CMD_OP_SHIFT)
#define AMD_CW_STORE BIT(0)			/* 2.4.1: write the data to the address */
#define AMD_CW_ADDR GENMASK(51, 3)		/* 8-byte aligned store address */
#define AMD_INV_DOMAIN_SHIFT 32			/* 2.4.3: DomainID in bits 47:32 */
#define AMD_INV_SIZE BIT(0)			/* the address encodes a range */
#define AMD_INV_PDE BIT(1)			/* page directory entries too */
#define AMD_INV_ALL_PAGES 0x7ffffffffffff000ULL /* with S: every address (2.4.3 table) */

/* 2.5: event log entries, 128 bits, the event code in bits 63:60 */
#define AMD_EVT_CODE(q0) ((u8)((q0) >> 60))
#define AMD_EVT_DEVID(q0) ((u16)(q0))
#define AMD_EVT_FLAGS(q0) ((u32)((q0) >> 48) & 0xfff)
#define AMD_EVT_ILLEGAL_DEV_TABLE_ENTRY 0x1
#define AMD_EVT_IO_PAGE_FAULT 0x2
#define AMD_EVT_DEV_TAB_HW_ERROR 0x3
#define AMD_EVT_PAGE_TAB_HW_ERROR 0x4
#define AMD_EVT_ILLEGAL_COMMAND 0x5
#define AMD_EVT_COMMAND_HW_ERROR 0x6
#define AMD_EVT_IOTLB_INV_TIMEOUT 0x7
#define AMD_EVT_INVALID_DEVICE_REQUEST 0x8
/* 2.5.3 IO_PAGE_FAULT flags (bits 59:48 of the first quadword) */
#define AMD_PF_US BIT(2) /* user access */
#define AMD_PF_I BIT(3)	 /* an interrupt request */
#define AMD_PF_PR BIT(4) /* the page was present */
#define AMD_PF_RW BIT(5) /* a write */
#define AMD_PF_PE BIT(6) /* permission denied */
#define AMD_PF_RZ BIT(7) /* reserved bits not zero */
#define AMD_PF_TR BIT(8) /* a translation request */

struct amd_unit {
	const struct ivrs_unit *acpi;
	volatile u8 *regs;
	u64 efr;
	u64 *dev_table;		/* AMD_DTE_ENTRIES entries of 4 quadwords */
	u64 *cmd_buf;		/* AMD_RING_ENTRIES commands */
	u32 cmd_tail;		/* next free command, a byte offset */
	u64 *event_log;		/* AMD_RING_ENTRIES events */
	volatile u64 wait_data; /* where COMPLETION_WAIT stores */
	u64 wait_seq;
	bool broken; /* a command batch did not complete: no more are sent */
	u64 faults, events;
};

/* amd_mmio.c: register access (unit tests put a model of the unit behind these) */
u64 amd_read64(const struct amd_unit *u, u32 off);
void amd_write64(struct amd_unit *u, u32 off, u64 v);

/* amd_pt.c: the I/O page table format and the device table entries */
extern const struct pt_format amd_format;
/* A DTE that translates through the tables at root (levels deep) for domain id, R and W allowed. */
void amd_dte_translated(u64 dte[AMD_DTE_WORDS], hpa_t root, u32 levels, u16 id);
/* A DTE that blocks every DMA request (V = TV = 1, no tables, IR = IW = 0). */
void amd_dte_blocked(u64 dte[AMD_DTE_WORDS]);

/* amd_cmd.c: the command buffer */
void amd_cmd_init(struct amd_unit *u);
/* Queues the commands and a COMPLETION_WAIT; returns once the unit has done them all. */
int amd_cmd_run(struct amd_unit *u, const u64 (*cmd)[2], u32 n);
int amd_inv_devtab_entry(struct amd_unit *u, u16 devid);
int amd_inv_domain(struct amd_unit *u, u16 domain);
int amd_inv_pages(struct amd_unit *u, u16 domain, u64 iova, u64 size);
int amd_inv_all(struct amd_unit *u);
/* 2.4.2 and 2.4.5: the device table entry and the interrupt table it names, one batch. */
int amd_inv_dte_and_int_table(struct amd_unit *u, u16 devid);
/* 2.4.5: the unit's cached entries of devid's interrupt remapping table. */
int amd_inv_int_table(struct amd_unit *u, u16 devid);

/* amd.c: the unit whose IVHD lists (seg, bdf), and the device id its requests carry */
struct amd_unit *amd_unit_of(u16 seg, u16 bdf, u16 *alias);
/* ... and of an I/O APIC (IVHD special device), with its device id */
struct amd_unit *amd_ioapic_unit(u8 ioapic_id, u16 *devid);

/* amd_ir.c: interrupt remapping (a table per device id) */
enum amd_ir_mode { AMD_IR_OFF, AMD_IR_32, AMD_IR_XT };
/* Whether the units can remap, and in which format: NULL, or why not (*mode OFF). */
const char *amd_ir_decide(const struct acpi_info *ai, struct amd_unit *units, u32 n,
			  enum amd_ir_mode *mode);
extern enum amd_ir_mode amd_ir_mode;
/* The interrupt quadword of a device id Keel gave no table (2.2.2): aborted, or passed (IR off) */
u64 amd_ir_dte_unmapped(void);
/* A DTE's interrupt quadword naming a table of 2^AMD_IRT_LEN entries at root */
u64 amd_ir_dte_remapped(hpa_t root);
u32 amd_irte32(u8 vector, u32 apic_id);
void amd_irte128(u64 e[2], u8 vector, u32 apic_id);
int amd_ir_set(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg);
void amd_ir_free(u32 handle);
void amd_ir_report(void);

/* amd_event.c: the event log */
void amd_event_init(struct amd_unit *u);
bool amd_event_next(struct amd_unit *u, struct iommu_fault *f);
/* The unit's event interrupt as msg through its PCI function's MSI (NULL: off); -errno if it has none. */
int amd_event_irq(struct amd_unit *u, const struct iommu_msi *msg);
void amd_event_ack(struct amd_unit *u);

#endif
