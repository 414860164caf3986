// SPDX-License-Identifier: MIT
/* Physical I/O APIC driver (82093AA datasheet; ACPI 6.5 5.2.12.3 and 5.2.12.5 for discovery). */
#include <keel/ioapic.h>
#include <arch/x86/apic_regs.h>
#include <keel/iommu.h>
#include <keel/log.h>
#include <keel/memory.h>

#define MPS_POLARITY_MASK 0x3 /* MADT INTI flags, ACPI 6.5 table 5.26 */
#define MPS_POLARITY_LOW 0x3
#define MPS_TRIGGER_MASK 0xc
#define MPS_TRIGGER_LEVEL 0xc

#define IOAPIC_MAX_PINS 256 /* the version register's 8-bit highest entry, + 1 */

static const struct acpi_info *acpi;
static u32 remap[ACPI_MAX_IOAPICS][IOAPIC_MAX_PINS]; /* each pin's remapping entry (iommu.h) */

static u32 reg_read(const struct acpi_ioapic *io, u32 reg)
{
	volatile u32 *base = phys_to_virt(io->address);

	base[IOAPIC_REGSEL / 4] = reg;
	return base[IOAPIC_WINDOW / 4];
}

static void reg_write(const struct acpi_ioapic *io, u32 reg, u32 v)
{
	volatile u32 *base = phys_to_virt(io->address);

	base[IOAPIC_REGSEL / 4] = reg;
	base[IOAPIC_WINDOW / 4] = v;
}

u32 ioapic_pins(u32 index)
{
	return index < acpi->nr_ioapics ?
		       ((reg_read(&acpi->ioapics[index], IOAPIC_REG_VERSION) >> 16) & 0xff) + 1 :
		       0;
}

static const struct acpi_ioapic *find(u32 gsi, u32 *pin)
{
	for (u32 i = 0; i < acpi->nr_ioapics; i++) {
		const struct acpi_ioapic *io = &acpi->ioapics[i];

		if (gsi >= io->gsi_base && gsi < io->gsi_base + ioapic_pins(i)) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

void ioapic_init(const struct acpi_info *ai)
{
	acpi = ai;
	for (u32 i = 0; i < ai->nr_ioapics; i++) {
		u32 n = ioapic_pins(i);

		for (u32 p = 0; p < n; p++) {
			reg_write(&ai->ioapics[i], IOAPIC_REG_REDIR(p) + 1, 0);
			reg_write(&ai->ioapics[i], IOAPIC_REG_REDIR(p), IOAPIC_RTE_MASKED);
		}
		pr_debug("ioapic %u at %x: GSI %u-%u masked", ai->ioapics[i].id,
			 ai->ioapics[i].address, ai->ioapics[i].gsi_base,
			 ai->ioapics[i].gsi_base + n - 1);
	}
}

u32 ioapic_isa_gsi(u8 irq, u16 *flags)
{
	for (u32 i = 0; i < acpi->nr_overrides; i++) {
		if (acpi->overrides[i].source == irq) {
			*flags = acpi->overrides[i].flags;
			return acpi->overrides[i].gsi;
		}
	}
	*flags = 0; /* ISA defaults: edge, active high */
	return irq;
}

/*
 * An entry from the message the IOMMU layer composed: the 82093AA's entry
 * and an MSI line up (VT-d 4.1 5.1.5.1): entry bits 63:48 are address bits
 * 19:4, bit 11 is address bit 2, bits 15 and 10:0 are the data's; the
 * polarity is the pin's own.
 */
static u64 rte_of(const struct iommu_msi *m, bool active_low)
{
	return ((m->addr >> 4) & 0xffff) << 48 |
	       ((m->addr & MSI_ADDR_LOGICAL) ? IOAPIC_RTE_LOGICAL : 0) |
	       (m->data & (MSI_DATA_LEVEL | 0x7ff)) | (active_low ? IOAPIC_RTE_ACTIVE_LOW : 0);
}

int ioapic_route_raw(u32 gsi, u8 vector, u32 apic_id, bool level, bool active_low)
{
	u32 pin;
	const struct acpi_ioapic *io = find(gsi, &pin);
	struct iommu_irq irq = {
		.ioapic = true, .vector = vector, .apic_id = apic_id, .level = level
	};
	struct iommu_msi msg;
	u64 rte;
	int ret;

	if (!io)
		return -ENOENT;
	reg_write(io, IOAPIC_REG_REDIR(pin), IOAPIC_RTE_MASKED);
	irq.ioapic_id = (u8)io->id;
	ret = iommu_irq_compose(&irq, &remap[io - acpi->ioapics][pin], &msg);
	if (ret) {
		pr_err("ioapic %u pin %u: no interrupt remapping entry (%d): left masked", io->id,
		       pin, ret);
		return ret;
	}
	rte = rte_of(&msg, active_low);
	reg_write(io, IOAPIC_REG_REDIR(pin) + 1, (u32)(rte >> 32));
	reg_write(io, IOAPIC_REG_REDIR(pin), (u32)rte);
	return 0;
}

int ioapic_route(u32 gsi, u8 vector, u32 apic_id, u16 flags)
{
	return ioapic_route_raw(gsi, vector, apic_id,
				(flags & MPS_TRIGGER_MASK) == MPS_TRIGGER_LEVEL,
				(flags & MPS_POLARITY_MASK) == MPS_POLARITY_LOW);
}

void ioapic_mask(u32 gsi, bool mask)
{
	u32 pin, lo;
	const struct acpi_ioapic *io = find(gsi, &pin);

	if (!io)
		return;
	lo = reg_read(io, IOAPIC_REG_REDIR(pin));
	reg_write(io, IOAPIC_REG_REDIR(pin),
		  mask ? lo | IOAPIC_RTE_MASKED : lo & ~IOAPIC_RTE_MASKED);
}
