// SPDX-License-Identifier: MIT
/*
 * Where the IOMMUs' register blocks are, from the DMAR (Intel VT-d 4.1 ch. 8)
 * and IVRS (AMD IOMMU 3.08 ch. 5) tables: Keel's, never the service VM's.
 */
#include <keel/acpi.h>
#include <keel/memory.h>
#include <lib/string.h>

#define TABLE_BODY 48		/* both: 36-byte header plus 12 bytes of table fields */
#define DMAR_DRHD 0		/* VT-d 8.3: DMA remapping hardware unit definition */
#define DMAR_DRHD_SIZE_MASK 0xf /* bits 3:0 of byte 5: 2^N 4 KiB pages */
#define IVHD_10H 0x10		/* AMD IOMMU 3.08 5.2.2: the IVHD types */
#define IVHD_11H 0x11
#define IVHD_40H 0x40
#define IVHD_REGS_SIZE (512 * KiB) /* AMD IOMMU 3.08 3.4: MMIO space incl. counters */

static u32 add(struct acpi_range *out, u32 n, u32 max, u64 base, u64 size)
{
	if (n < max && base)
		out[n++] = (struct acpi_range){ base, size };
	return n;
}

static u32 dmar_units(const struct acpi_header *h, struct acpi_range *out, u32 n, u32 max)
{
	const u8 *t = (const u8 *)h;

	for (u32 off = TABLE_BODY; off + 4 <= h->length;) {
		u16 type, len;
		u64 base;

		memcpy(&type, t + off, 2);
		memcpy(&len, t + off + 2, 2);
		if (len < 4 || off + len > h->length)
			break;
		if (type == DMAR_DRHD && len >= 16) {
			memcpy(&base, t + off + 8, 8);
			n = add(out, n, max, base, PAGE_SIZE << (t[off + 5] & DMAR_DRHD_SIZE_MASK));
		}
		off += len;
	}
	return n;
}

static u32 ivrs_units(const struct acpi_header *h, struct acpi_range *out, u32 n, u32 max)
{
	const u8 *t = (const u8 *)h;

	for (u32 off = TABLE_BODY; off + 4 <= h->length;) {
		u8 type = t[off];
		u16 len;
		u64 base;

		memcpy(&len, t + off + 2, 2);
		if (len < 4 || off + len > h->length)
			break;
		if ((type == IVHD_10H || type == IVHD_11H || type == IVHD_40H) && len >= 16) {
			memcpy(&base, t + off + 8, 8);
			n = add(out, n, max, base, IVHD_REGS_SIZE);
		}
		off += len;
	}
	return n;
}

u32 acpi_iommu_blocks(const struct acpi_info *ai, struct acpi_range *out, u32 max)
{
	u32 n = 0;

	if (ai->dmar)
		n = dmar_units(phys_to_virt(ai->dmar), out, n, max);
	if (ai->ivrs)
		n = ivrs_units(phys_to_virt(ai->ivrs), out, n, max);
	return n;
}
