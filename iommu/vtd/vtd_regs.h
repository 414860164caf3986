/* SPDX-License-Identifier: MIT */
/* VT-d's registers and in-memory structures (Intel VT-d 4.1 ch. 9 and 11), for iommu/vtd/ only. */
#ifndef IOMMU_VTD_REGS_H
#define IOMMU_VTD_REGS_H

#include <keel/iommu.h>
#include <keel/iommu_acpi.h>

/* 11.4: register offsets */
#define VTD_VER 0x00
#define VTD_CAP 0x08
#define VTD_ECAP 0x10
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_RTADDR 0x20
#define VTD_CCMD 0x28
#define VTD_FSTS 0x34
#define VTD_FECTL 0x38
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQA 0x90
#define VTD_ICS 0x9c
#define VTD_IRTA 0xb8

/* 11.4.2 capability register */
#define VTD_CAP_RWBF BIT(4)
#define VTD_CAP_CM BIT(7)
#define VTD_CAP_SAGAW(c) (((c) >> 8) & 0x1f)
#define VTD_SAGAW_39 BIT(1) /* 3-level tables */
#define VTD_SAGAW_48 BIT(2) /* 4-level tables */
#define VTD_CAP_MGAW(c) ((u32)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c) ((u32)(((c) >> 24) & 0x3ff) * 16) /* fault recording registers' offset */
#define VTD_CAP_SLLPS(c) (((c) >> 34) & 0xf)		 /* bit 0: 2 MiB, bit 1: 1 GiB */
#define VTD_CAP_NFR(c) ((u32)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_ND(c) ((u32)((c)&7))		    /* 4 + 2 * ND bits of domain id */
#define VTD_CAP_PSI BIT(39)			    /* page-selective IOTLB invalidation */
#define VTD_CAP_MAMV(c) ((u32)(((c) >> 48) & 0x3f)) /* its largest address mask */
#define VTD_CAP_DWD BIT(54)
#define VTD_CAP_DRD BIT(55)

/* 11.4.3 extended capability register */
#define VTD_ECAP_C BIT(0) /* page walks snoop the CPU's caches */
#define VTD_ECAP_QI BIT(1)
#define VTD_ECAP_IR BIT(3)
#define VTD_ECAP_EIM BIT(4)

/* 11.4.4 and 11.4.5: global command and status (the same bit positions) */
#define VTD_GCMD_TE BIT(31) /* translation enable */
#define VTD_GCMD_SRTP BIT(30)
#define VTD_GCMD_QIE BIT(26)
#define VTD_GCMD_IRE BIT(25)
#define VTD_GCMD_SIRTP BIT(24) /* status: IRTPS, the table pointer is in use */
#define VTD_GCMD_CFI BIT(23)   /* status: CFIS, compatibility-format interrupts pass */
/* The bits that stay as they are set (the others are one-shot commands). */
#define VTD_GCMD_PERSISTENT (VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI)

/* 11.4.7 fault status: the write-1-to-clear bits, and which record is first */
#define VTD_FSTS_PFO BIT(0)
#define VTD_FSTS_PPF BIT(1)
#define VTD_FSTS_AFO BIT(2)
#define VTD_FSTS_APF BIT(3)
#define VTD_FSTS_IQE BIT(4)
#define VTD_FSTS_ICE BIT(5)
#define VTD_FSTS_ITE BIT(6)
#define VTD_FSTS_CLEAR \
	(VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
#define VTD_FSTS_FRI(s) (((s) >> 8) & 0xff)
#define VTD_FECTL_IM BIT(31) /* fault event interrupt masked */
#define VTD_FECTL_IP BIT(30) /* a fault event is pending (held while masked) */

/* 11.4.14 fault recording register: the upper 64 bits */
#define VTD_FRCD_F BIT(63) /* a fault is recorded (write 1 to clear) */
#define VTD_FRCD_T BIT(62) /* 0: a write, 1: a read */
#define VTD_FRCD_FR(h) ((u8)((h) >> 32))
#define VTD_FRCD_SID(h) ((u16)(h))
#define VTD_FRCD_IR_INDEX(lo) ((u16)((lo) >> 48)) /* FI[63:48] of an interrupt fault */
#define VTD_FR_IR_FIRST 0x20			  /* 7.1.3: reasons 20h and up are interrupts' */

/* 11.4.9: invalidation queue address: 4 KiB << QS, 128-bit descriptors */
#define VTD_IQA_QS_4K 0
#define VTD_IQ_ENTRIES 256
#define VTD_IQ_SHIFT 4 /* IQH/IQT hold the index << 4 */

/* 11.4.10 interrupt remapping table address: 2^(S + 1) entries of 16 bytes */
#define VTD_IRTA_EIME BIT(11) /* 32-bit (x2APIC) destination ids */
#define VTD_IRT_S 7	      /* 256 entries: one page */
#define VTD_IRT_ENTRIES (1u << (VTD_IRT_S + 1))

/* 9.10 interrupt remapping table entry for remapped interrupts (IM = 0), the low 64 bits */
#define VTD_IRTE_P BIT(0)
#define VTD_IRTE_DM_LOGICAL BIT(2)
#define VTD_IRTE_TM_LEVEL BIT(4)
#define VTD_IRTE_DLM_SHIFT 5 /* delivery mode, as in an MSI's data (000: fixed) */
#define VTD_IRTE_VECTOR_SHIFT 16
#define VTD_IRTE_DST_SHIFT 32	    /* x2APIC mode: the 32-bit APIC id */
#define VTD_IRTE_DST_XAPIC_SHIFT 40 /* xAPIC mode: the 8-bit APIC id in DST[15:8] */
/* the high 64 bits: which requester may use the entry */
#define VTD_IRTE_SQ_ALL (0ULL << 16)  /* SQ 00: compare all 16 bits of the SID */
#define VTD_IRTE_SVT_SID (1ULL << 18) /* SVT 01: verify the requester id against SID, SQ */

/*
 * 5.1.5.2 an MSI in remappable format: 0xFEE in bits 31:20, handle[14:0] in
 * 19:5, bit 4 the interrupt format (1), bit 3 SHV (0: the data is not used),
 * bit 2 handle[15]. 5.1.5.1: an I/O APIC's entry carries the same 16 bits
 * in its bits 63:48 and bit 11.
 */
#define VTD_MSI_REMAPPABLE BIT(4)
#define VTD_MSI_SHV BIT(3) /* the data's bits 15:0 are a subhandle added to the index */
#define VTD_MSI_HANDLE_SHIFT 5
#define VTD_MSI_HANDLE15 BIT(2)

/* 9.1 root entry and 9.3 context entry (legacy mode), 128 bits each */
#define VTD_ROOT_P BIT(0)
#define VTD_CTX_P BIT(0)
#define VTD_CTX_AW_39 1 /* high word bits 2:0: 3-level tables */
#define VTD_CTX_AW_48 2
#define VTD_CTX_DID_SHIFT 8

/* 9.8 second-level paging entries */
#define VTD_SL_R BIT(0)
#define VTD_SL_W BIT(1)
#define VTD_SL_PS BIT(7)
#define VTD_SL_OWNED BIT(52) /* ignored by hardware (bits 61:52): Keel's mark */
#define VTD_SL_ADDR GENMASK(51, 12)

/* 6.5.2: invalidation descriptors, the type in bits 3:0 */
#define VTD_INV_CC 0x1
#define VTD_INV_IOTLB 0x2
#define VTD_INV_IEC 0x4 /* 6.5.2.7 interrupt entry cache */
#define VTD_INV_WAIT 0x5
#define VTD_INV_G_GLOBAL (1ULL << 4) /* context-cache and IOTLB: granularity */
#define VTD_INV_G_DOMAIN (2ULL << 4)
#define VTD_INV_G_DEVICE (3ULL << 4) /* context cache: device; IOTLB: page */
#define VTD_INV_G_PAGE VTD_INV_G_DEVICE
#define VTD_INV_IOTLB_AM(order) ((u64)(order)) /* high word: 2^AM pages from ADDR */
#define VTD_INV_IOTLB_DW BIT(6)
#define VTD_INV_IOTLB_DR BIT(7)
#define VTD_INV_DID(d) ((u64)(d) << 16)
#define VTD_INV_CC_SID(s) ((u64)(s) << 32)
#define VTD_INV_IEC_INDEX BIT(4) /* index-selective (0: global) */
#define VTD_INV_IEC_IIDX(i) ((u64)(i) << 32)
#define VTD_INV_WAIT_SW BIT(5) /* write the status data to the status address */
#define VTD_INV_WAIT_FN BIT(6) /* later descriptors wait for this one */
#define VTD_INV_WAIT_DATA(v) ((u64)(v) << 32)

struct vtd_unit {
	const struct dmar_unit *acpi;
	volatile u8 *regs;
	u64 cap, ecap;
	u32 levels; /* of the second-level tables: 3 or 4 */
	bool coherent;
	u64 *root;	 /* 256 root entries of 16 bytes */
	u64 *ctx[256];	 /* the context table of each bus, once one is used */
	u64 *queue;	 /* the invalidation queue */
	u32 tail;	 /* next free descriptor */
	u32 wait_status; /* where invalidation-wait descriptors write */
	u32 wait_seq;
	u32 next_fault; /* fault recording register to read next */
	u64 faults;
	bool remapping; /* interrupts go through the table (GSTS.IRES) */
};

/* vtd_mmio.c: register access (unit tests put a model of the unit behind these) */
u32 vtd_read32(const struct vtd_unit *u, u32 off);
u64 vtd_read64(const struct vtd_unit *u, u32 off);
void vtd_write32(struct vtd_unit *u, u32 off, u32 v);
void vtd_write64(struct vtd_unit *u, u32 off, u64 v);

/* vtd_pt.c: the second-level page table formats */
extern const struct pt_format vtd_format_3level, vtd_format_4level;
/* vtd_qi.c: the invalidation queue */
int vtd_qi_enable(struct vtd_unit *u);
/* Queues the descriptors and a wait; returns once the hardware has done them all. */
int vtd_qi_run(struct vtd_unit *u, const u64 (*desc)[2], u32 n);
int vtd_flush_context(struct vtd_unit *u, u16 did, u16 sid);
int vtd_flush_iotlb(struct vtd_unit *u, u16 did, u64 iova, u64 size);
int vtd_flush_iec(struct vtd_unit *u, u32 index, bool global);
/* vtd_ir.c: interrupt remapping, a table per PCI segment that its units point at */
int vtd_ir_enable(struct vtd_unit *u, bool x2apic);
void vtd_ir_disable_all(void);
bool vtd_ir_on(void);
u64 vtd_irte_lo(u8 vector, u32 apic_id, bool level, bool x2apic);
u64 vtd_irte_hi(u16 sid);
u64 vtd_irte_msi_addr(u32 index);
int vtd_ir_set(const struct iommu_irq *irq, u32 *handle, struct iommu_msi *msg);
void vtd_ir_free(u32 handle);
void vtd_ir_report(void);
/* vtd.c: a global command (10.4.4), one at a time, waiting for its status */
int vtd_gcmd(struct vtd_unit *u, u32 bit, bool on);
/* vtd.c: the requester id of an I/O APIC, from its DMAR device scope; -ENOENT if none names it */
int vtd_ioapic_sid(u8 ioapic_id, u16 *seg, u16 *sid);
/* vtd_fault.c */
void vtd_fault_clear_all(struct vtd_unit *u);
bool vtd_fault_next(struct vtd_unit *u, struct iommu_fault *f);
/* The unit's fault events sent as msg; masked with msg NULL. */
void vtd_fault_irq(struct vtd_unit *u, const struct iommu_msi *msg);

#endif
