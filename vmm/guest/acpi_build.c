// SPDX-License-Identifier: MIT
/*
 * Synthetic ACPI tables for guest VMs: a HW-reduced platform in the style
 * of Cloud Hypervisor. The guest learns its vCPUs and I/O APIC from the
 * MADT, ECAM from the MCFG, the PM timer, sleep and reset registers from
 * the FADT, and its devices from a DSDT written here in AML:
 *
 *   \_SB.PCI0  PCI host bridge: bus range, I/O and memory windows
 *   \_SB.MBRD  motherboard resources: reserves the ECAM window, which
 *              Linux wants to see before it trusts the MCFG
 *   \_SB.COM1  16550 UART
 *   \_SB.PWRB  power button (PNP0C0C), which GED0 notifies
 *   \_SB.GED0  the Generic Event Device: its interrupt runs _EVT
 *   \_SB.Cnnn  one processor device a vCPU (nnn: its APIC ID in hex)
 *   \_S5       the HW-reduced sleep type for soft off
 *
 * Layout in buf (offsets are fixed up to the MADT, whose size depends on
 * the vCPUs; 16-byte aligned):
 *
 *   0x000 RSDP (36)   0x030 XSDT (60)   0x070 FADT (276)
 *   0x190 MCFG (60)   0x1d0 MADT (44 + 12 + 16 a vCPU)   then the DSDT
 */
#include <arch/x86/apic_regs.h>
#include <arch/x86/pc_regs.h>
#include <keel/acpi.h>
#include <keel/aml.h>
#include <keel/guest_acpi.h>
#include <lib/pci_regs.h>
#include <lib/string.h>

#define XSDT_ENTRIES 3 /* FADT, MCFG, MADT */
BUILD_ASSERT(GUEST_ACPI_POINTERS == 1 + XSDT_ENTRIES + 1, "RSDP, XSDT entries, FADT X_DSDT");

struct xsdt { /* ACPI 6.5 5.2.8 */
	struct acpi_header h;
	u64 entry[XSDT_ENTRIES]; /* 36: unaligned, as the spec lays it out */
} __packed;
BUILD_ASSERT(offsetof(struct xsdt, entry) == 36, "ACPI 6.5 5.2.8");

#define FADT_BOOT_VGA_NOT_PRESENT BIT(2) /* ACPI 6.5 5.2.9.3 IA-PC boot flags */
#define FADT_PM_TMR_LEN 4		 /* ACPI 6.5 5.2.9: 4 when the timer exists */

struct mcfg_entry { /* PCI Firmware Spec 3.3 4.1.2, table 4-3 */
	u64 base;
	u16 segment;
	u8 bus_start, bus_end;
	u32 reserved;
} __packed;
BUILD_ASSERT(sizeof(struct mcfg_entry) == 16, "PCI FW 3.3 table 4-3");

struct mcfg { /* PCI Firmware Spec 3.3 4.1.2, table 4-2 */
	struct acpi_header h;
	u64 reserved;
	struct mcfg_entry entry; /* 44 */
} __packed;
BUILD_ASSERT(offsetof(struct mcfg, entry) == 44, "PCI FW 3.3 table 4-2");

struct madt { /* ACPI 6.5 5.2.12 */
	struct acpi_header h;
	u32 lapic_address; /* 36 */
	u32 flags;	   /* 40: no PCAT_COMPAT, there are no 8259 PICs */
} __packed;
BUILD_ASSERT(sizeof(struct madt) == 44, "ACPI 6.5 5.2.12");

struct madt_x2apic { /* ACPI 6.5 5.2.12.12 */
	u8 type, length;
	u16 reserved;
	u32 x2apic_id; /* 4 */
	u32 flags;     /* 8 */
	u32 uid;       /* 12 */
} __packed;
BUILD_ASSERT(offsetof(struct madt_x2apic, x2apic_id) == 4, "ACPI 6.5 5.2.12.12");
BUILD_ASSERT(offsetof(struct madt_x2apic, uid) == 12, "ACPI 6.5 5.2.12.12");
BUILD_ASSERT(sizeof(struct madt_x2apic) == 16, "ACPI 6.5 5.2.12.12");

struct madt_ioapic { /* ACPI 6.5 5.2.12.3 */
	u8 type, length, id, reserved;
	u32 address;  /* 4 */
	u32 gsi_base; /* 8 */
} __packed;
BUILD_ASSERT(offsetof(struct madt_ioapic, address) == 4, "ACPI 6.5 5.2.12.3");
BUILD_ASSERT(sizeof(struct madt_ioapic) == 12, "ACPI 6.5 5.2.12.3");

/* Revisions per ACPI 6.5 (MCFG: PCI Firmware Spec 3.3 4.1.2). */
#define RSDP_REVISION 2 /* 5.2.5.3: ACPI 2.0+, with the XSDT */
#define XSDT_REVISION 1 /* 5.2.8 */
#define FADT_REVISION 6 /* 5.2.9: major 6 ... */
#define FADT_MINOR 5	/* ... minor 5 */
#define MADT_REVISION 6 /* 5.2.12 */
#define MCFG_REVISION 1
#define DSDT_REVISION 2 /* 5.2.11.1: 2 and up gives AML 64-bit integers */

#define OFF_RSDP 0
#define OFF_XSDT ALIGN_UP(OFF_RSDP + sizeof(struct acpi_rsdp), 16)
#define OFF_FADT ALIGN_UP(OFF_XSDT + sizeof(struct xsdt), 16)
#define OFF_MCFG ALIGN_UP(OFF_FADT + sizeof(struct acpi_fadt), 16)
#define OFF_MADT ALIGN_UP(OFF_MCFG + sizeof(struct mcfg), 16)
BUILD_ASSERT(OFF_MADT == 0x1d0, "the layout drawn at the top of this file");

#define PCI_CONF1_LAST (PCI_CONF1_DATA + 3)
#define PCI_IO_END 0x10000
#define ECAM_BUS_SHIFT 20 /* PCIe Base 6.0 7.2.2: 1 MiB of ECAM a bus */
#define ISA_IRQS 16
#define NOTIFY_POWER_BUTTON 0x80 /* ACPI 6.5 4.8.2.2.1.2: a press in S0 */
#define S5_PACKAGE_ELEMENTS 2	 /* ACPI 6.5 7.4.2: {SLP_TYPa, SLP_TYPb} */

static const char oem_id[6] = { 'K', 'E', 'E', 'L', ' ', ' ' };
static const char oem_table_id[8] = { 'K', 'E', 'E', 'L', 'V', 'M', ' ', ' ' };

static void sdt_header(struct acpi_header *h, const char *sig, u32 len, u8 rev)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = rev;
	memcpy(h->oem_id, oem_id, sizeof(oem_id));
	/* one table ID for all: the FADT's and the XSDT's must match (5.2.8) */
	memcpy(h->oem_table_id, oem_table_id, sizeof(oem_table_id));
	h->oem_revision = 1;
	memcpy(&h->creator_id, "KEEL", 4);
	h->creator_revision = 1;
}

/* Sets *field so that the len bytes at p sum to zero (ACPI 6.5 5.2.6). */
static void checksum(void *p, u32 len, u8 *field)
{
	u8 sum = 0;

	*field = 0;
	for (u32 i = 0; i < len; i++)
		sum += ((u8 *)p)[i];
	*field = (u8)-sum;
}

static void sdt_finish(void *table, const char *sig, u32 len, u8 rev)
{
	struct acpi_header *h = table;

	sdt_header(h, sig, len, rev);
	checksum(h, len, &h->checksum);
}

static struct acpi_gas gas_io(u16 port, u8 bits, u8 access)
{
	struct acpi_gas g = { ACPI_GAS_IO, bits, 0, access, port };

	if (!port)
		memset(&g, 0, sizeof(g)); /* an all-zero GAS: the register is absent */
	return g;
}

static void build_fadt(struct acpi_fadt *f, const struct guest_platform *p, u64 dsdt_gpa)
{
	f->flags = FADT_HW_REDUCED | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
	f->iapc_boot_arch = FADT_BOOT_VGA_NOT_PRESENT;
	f->minor_version = FADT_MINOR;
	f->x_dsdt = dsdt_gpa;
	if (p->pm_timer_port) {
		f->flags |= FADT_TMR_VAL_EXT;
		f->pm_tmr_len = FADT_PM_TMR_LEN;
		f->x_pm_tmr_blk = gas_io(p->pm_timer_port, 32, ACPI_GAS_ACCESS_DWORD);
	}
	if (p->reset_port) { /* ACPI 6.5 4.8.3.6: an 8-bit register at bit offset 0 */
		f->flags |= FADT_RESET_REG_SUP;
		f->reset_reg = gas_io(p->reset_port, 8, ACPI_GAS_ACCESS_BYTE);
		f->reset_value = p->reset_value;
	}
	/* ACPI 6.5 4.8.3.7: both 8 bits wide at bit offset 0 */
	f->sleep_control = gas_io(p->sleep_ctl_port, 8, ACPI_GAS_ACCESS_BYTE);
	f->sleep_status = gas_io(p->sleep_sts_port, 8, ACPI_GAS_ACCESS_BYTE);
	memcpy(&f->hypervisor_id, "KEEL", 4);
	sdt_finish(f, "FACP", sizeof(*f), FADT_REVISION);
}

static void build_mcfg(struct mcfg *m, const struct guest_platform *p)
{
	m->entry.base = p->ecam_base;
	m->entry.segment = 0;
	m->entry.bus_start = 0;
	m->entry.bus_end = p->bus_end;
	sdt_finish(m, "MCFG", sizeof(*m), MCFG_REVISION);
}

static size_t madt_size(const struct guest_platform *p)
{
	return sizeof(struct madt) + p->nr_vcpus * sizeof(struct madt_x2apic) +
	       sizeof(struct madt_ioapic);
}

/* Processors first, then the I/O APIC; UIDs equal APIC IDs. */
static void build_madt(struct madt *m, const struct guest_platform *p)
{
	struct madt_x2apic *cpu = (struct madt_x2apic *)(m + 1);
	struct madt_ioapic *io = (struct madt_ioapic *)(cpu + p->nr_vcpus);

	m->lapic_address = APIC_DEFAULT_BASE;
	m->flags = 0;
	for (u32 i = 0; i < p->nr_vcpus; i++) {
		cpu[i].type = MADT_X2APIC;
		cpu[i].length = sizeof(cpu[i]);
		cpu[i].x2apic_id = i;
		cpu[i].flags = MADT_CPU_ENABLED;
		cpu[i].uid = i;
	}
	io->type = MADT_IOAPIC;
	io->length = sizeof(*io);
	io->id = p->ioapic_id;
	io->address = (u32)p->ioapic_base;
	io->gsi_base = p->ioapic_gsi_base;
	sdt_finish(m, "APIC", (u32)madt_size(p), MADT_REVISION);
}

static void build_xsdt(struct xsdt *x, u64 table_gpa)
{
	x->entry[0] = table_gpa + OFF_FADT;
	x->entry[1] = table_gpa + OFF_MCFG;
	x->entry[2] = table_gpa + OFF_MADT;
	sdt_finish(x, "XSDT", sizeof(*x), XSDT_REVISION);
}

static void build_rsdp(struct acpi_rsdp *r, u64 table_gpa)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, oem_id, sizeof(oem_id));
	r->revision = RSDP_REVISION;
	r->length = sizeof(*r);
	r->xsdt = table_gpa + OFF_XSDT;
	checksum(r, offsetof(struct acpi_rsdp, length), &r->checksum);
	checksum(r, sizeof(*r), &r->ext_checksum);
}

static void dsdt_name_int(struct aml *a, const char *name, u64 v)
{
	aml_name(a, name);
	aml_integer(a, v);
}

static void dsdt_name_eisa(struct aml *a, const char *name, const char *id)
{
	aml_name(a, name);
	aml_eisa_id(a, id);
}

/* The I/O window less the configuration ports, which the bridge itself decodes. */
static void dsdt_pci0_io(struct aml *a, const struct guest_platform *p)
{
	u32 lo = p->io_base, hi = (u32)p->io_base + p->io_size - 1;

	if (!p->io_size)
		return;
	if (lo < PCI_CONF1_ADDR)
		aml_res_word_io(a, (u16)lo, (u16)MIN(hi, PCI_CONF1_ADDR - 1));
	if (hi > PCI_CONF1_LAST)
		aml_res_word_io(a, (u16)MAX(lo, PCI_CONF1_LAST + 1), (u16)hi);
}

/* A PCI Express root bridge (PNP0A08, PCI PNP0A03 for older OSes); _BBN 6.5.5, _SEG 6.5.6. */
static void dsdt_pci0(struct aml *a, const struct guest_platform *p)
{
	aml_device(a, "PCI0");
	dsdt_name_eisa(a, "_HID", "PNP0A08");
	dsdt_name_eisa(a, "_CID", "PNP0A03");
	dsdt_name_int(a, "_SEG", 0);
	dsdt_name_int(a, "_BBN", 0);
	dsdt_name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	aml_res_word_bus_number(a, 0, p->bus_end);
	dsdt_pci0_io(a, p);
	if (p->mmio32_size)
		aml_res_dword_memory(a, true, (u32)p->mmio32_base,
				     (u32)(p->mmio32_base + p->mmio32_size - 1));
	if (p->mmio64_size)
		aml_res_qword_memory(a, true, p->mmio64_base, p->mmio64_base + p->mmio64_size - 1);
	aml_resource_template_end(a);
	aml_close(a);
}

/*
 * PNP0C02 resources: Linux uses the MCFG's ECAM only if the window is
 * reserved here or in the e820 map (arch/x86/pci/mmconfig-shared.c).
 */
static void dsdt_mbrd(struct aml *a, const struct guest_platform *p)
{
	u64 end = p->ecam_base + ((u64)(p->bus_end + 1) << ECAM_BUS_SHIFT) - 1;

	aml_device(a, "MBRD");
	dsdt_name_eisa(a, "_HID", "PNP0C02");
	dsdt_name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	if (end >> 32)
		aml_res_qword_memory(a, false, p->ecam_base, end);
	else
		aml_res_dword_memory(a, false, (u32)p->ecam_base, (u32)end);
	aml_resource_template_end(a);
	aml_close(a);
}

static void dsdt_com1(struct aml *a, const struct guest_platform *p)
{
	aml_device(a, "COM1");
	dsdt_name_eisa(a, "_HID", "PNP0501");
	dsdt_name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	aml_res_io(a, p->com1_port, UART_NR_PORTS);
	if (p->com1_gsi < ISA_IRQS)
		aml_res_irq_no_flags(a, (u8)p->com1_gsi);
	else
		aml_res_interrupt(a, p->com1_gsi);
	aml_resource_template_end(a);
	aml_close(a);
}

/* ACPI 6.5 4.8.2.2.1.2 and table 4.8: the control method power button. */
static void dsdt_pwrb(struct aml *a)
{
	aml_device(a, "PWRB");
	dsdt_name_eisa(a, "_HID", "PNP0C0C");
	dsdt_name_int(a, "_UID", 0);
	aml_close(a);
}

/*
 * ACPI 6.5 5.6.9: the GED's interrupt makes OSPM run _EVT with the
 * interrupt number as Arg0; ours has one event, the power button.
 */
static void dsdt_ged(struct aml *a, const struct guest_platform *p)
{
	aml_device(a, "GED0");
	aml_name(a, "_HID");
	aml_string(a, "ACPI0013");
	dsdt_name_int(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_template(a);
	aml_res_interrupt(a, p->ged_gsi);
	aml_resource_template_end(a);
	aml_method(a, "_EVT", 1);
	aml_if(a);
	aml_lequal(a);
	aml_arg(a, 0);
	aml_integer(a, p->ged_gsi);
	aml_notify(a, "\\_SB.PWRB", NOTIFY_POWER_BUTTON);
	aml_close(a); /* If */
	aml_close(a); /* Method */
	aml_close(a); /* Device */
}

/*
 * ACPI 6.5 5.2.12.12 and 8.4: with x2APIC entries each processor needs a
 * device, which OSPM matches to its MADT entry by _UID.
 */
static void dsdt_cpus(struct aml *a, const struct guest_platform *p)
{
	static const char hex[] = "0123456789ABCDEF";
	char name[] = "C000";

	for (u32 i = 0; i < p->nr_vcpus; i++) {
		name[1] = hex[(i >> 8) & 0xf];
		name[2] = hex[(i >> 4) & 0xf];
		name[3] = hex[i & 0xf];
		aml_device(a, name);
		aml_name(a, "_HID");
		aml_string(a, "ACPI0007");
		dsdt_name_int(a, "_UID", i);
		aml_close(a);
	}
}

/* ACPI 6.5 7.4.2 and 4.8.3.7: SLP_TYPa is what HW-reduced OSPM writes to SLP_TYP. */
static void dsdt_s5(struct aml *a)
{
	aml_name(a, "_S5");
	aml_package(a, S5_PACKAGE_ELEMENTS);
	aml_integer(a, GUEST_ACPI_S5_SLP_TYP);
	aml_integer(a, 0);
	aml_close(a);
}

static int build_dsdt(u8 *base, size_t room, const struct guest_platform *p)
{
	struct aml a;
	int len;

	if (room < sizeof(struct acpi_header))
		return -ENOSPC;
	room -= sizeof(struct acpi_header);
	aml_init(&a, base + sizeof(struct acpi_header), (u32)room);
	aml_scope(&a, "\\_SB");
	dsdt_pci0(&a, p);
	dsdt_mbrd(&a, p);
	if (p->com1_port)
		dsdt_com1(&a, p);
	dsdt_pwrb(&a);
	dsdt_ged(&a, p);
	dsdt_cpus(&a, p);
	aml_close(&a);
	dsdt_s5(&a);
	len = aml_finish(&a);
	if (len < 0)
		return len;
	len += sizeof(struct acpi_header);
	sdt_finish(base, "DSDT", (u32)len, DSDT_REVISION);
	return len;
}

/* What the tables cannot express, or Linux could not use. */
static int guest_acpi_check(const struct guest_platform *p)
{
	if (!p->nr_vcpus || p->nr_vcpus > GUEST_ACPI_MAX_VCPUS)
		return -EINVAL;
	if (p->ioapic_base >> 32)
		return -EINVAL;
	if ((u32)p->io_base + p->io_size > PCI_IO_END)
		return -EINVAL;
	if (p->mmio32_size &&
	    (p->mmio32_size > BIT(32) || p->mmio32_base > BIT(32) - p->mmio32_size))
		return -EINVAL;
	if (p->mmio64_size && p->mmio64_base + (p->mmio64_size - 1) < p->mmio64_base)
		return -EINVAL;
	if (p->ecam_base + ((u64)(p->bus_end + 1) << ECAM_BUS_SHIFT) - 1 < p->ecam_base)
		return -EINVAL;
	if (!p->sleep_ctl_port != !p->sleep_sts_port) /* OSPM needs both to sleep (4.8.3.7) */
		return -EINVAL;
	return 0;
}

int guest_acpi_build(const struct guest_platform *p, u64 table_gpa, u8 *buf, size_t size)
{
	size_t dsdt_off;
	int ret = guest_acpi_check(p), dsdt_len;

	if (ret)
		return ret;
	size = MIN(size, (size_t)INT32_MAX); /* so every length below fits the int returned */
	dsdt_off = ALIGN_UP((size_t)OFF_MADT + madt_size(p), 16);
	if (size < dsdt_off)
		return -ENOSPC;
	memset(buf, 0, dsdt_off);
	dsdt_len = build_dsdt(buf + dsdt_off, size - dsdt_off, p);
	if (dsdt_len < 0)
		return dsdt_len;
	build_fadt((struct acpi_fadt *)(buf + OFF_FADT), p, table_gpa + dsdt_off);
	build_mcfg((struct mcfg *)(buf + OFF_MCFG), p);
	build_madt((struct madt *)(buf + OFF_MADT), p);
	build_xsdt((struct xsdt *)(buf + OFF_XSDT), table_gpa);
	build_rsdp((struct acpi_rsdp *)(buf + OFF_RSDP), table_gpa);
	return (int)(dsdt_off + dsdt_len);
}

void guest_acpi_layout(const struct guest_platform *p, const u8 *buf, struct guest_acpi_layout *l)
{
	u32 dsdt_off = (u32)ALIGN_UP((size_t)OFF_MADT + madt_size(p), 16);
	const struct acpi_header *dsdt = (const void *)(buf + dsdt_off);

	*l = (struct guest_acpi_layout){
		.rsdp_len = sizeof(struct acpi_rsdp),
		.tables_start = OFF_XSDT,
		.table = { { OFF_XSDT, sizeof(struct xsdt) },
			   { OFF_FADT, sizeof(struct acpi_fadt) },
			   { OFF_MCFG, sizeof(struct mcfg) },
			   { OFF_MADT, (u32)madt_size(p) },
			   { dsdt_off, dsdt->length } },
		.pointer = { { OFF_RSDP + offsetof(struct acpi_rsdp, xsdt), 8 },
			     { OFF_XSDT + offsetof(struct xsdt, entry[0]), 8 },
			     { OFF_XSDT + offsetof(struct xsdt, entry[1]), 8 },
			     { OFF_XSDT + offsetof(struct xsdt, entry[2]), 8 },
			     { OFF_FADT + offsetof(struct acpi_fadt, x_dsdt), 8 } },
	};
}
