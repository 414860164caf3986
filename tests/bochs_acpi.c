// SPDX-License-Identifier: MIT
/*
 * The Bochs rig's boot shim: OVMF finds its ACPI tables only through QEMU's
 * fw_cfg, which Bochs 2.7 lacks, so under Bochs the firmware publishes none
 * and Keel (rightly) refuses to boot. This UEFI app describes the emulated
 * PC in ACPI (MADT from the firmware's MP services, FADT from the PIIX4 PM
 * block the firmware programmed, a DSDT with \_S5 and the PCI root bridge),
 * installs the tables
 * through EFI_ACPI_TABLE_PROTOCOL, and starts the unchanged Keel from
 * \EFI\keel\keel.efi on the same volume. Used only by tests/bochs.py.
 */
#include <efi.h>
#include <efilib.h>

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
#define PIIX3_ISA_FN 0x80000800u /* bus 0, device 1, function 0 */
#define PIIX3_PIRQRC 0x60	 /* PIRQA-D route control, a byte each: the ISA IRQ, 80h = off */
#define PIRQ_OFF 0x80
#define ISO_LEVEL_LOW 0xf	/* MPS INTI flags: polarity 11b active low, trigger 11b level */
#define PIIX4_PM_FN 0x80000b00u /* bus 0, device 1, function 3 */
#define PIIX4_PMBA 0x40
#define PIIX4_PMREGMISC 0x80
#define IOAPIC_BASE 0xfec00000u
#define LAPIC_BASE 0xfee00000u
#define RESET_PORT 0xcf9

typedef struct {
	CHAR8 signature[4];
	UINT32 length;
	UINT8 revision, checksum;
	CHAR8 oem_id[6], oem_table_id[8];
	UINT32 oem_revision, creator_id, creator_revision;
} __attribute__((packed)) acpi_header;

typedef struct {
	UINT8 space, bit_width, bit_offset, access_size;
	UINT64 address;
} __attribute__((packed)) acpi_gas;

/* ACPI 6.5 table 5.9, up to X_DSDT: what an ACPI 2.0 FADT holds (244 bytes with the X_ blocks). */
typedef struct {
	acpi_header h;
	UINT32 firmware_ctrl, dsdt;
	UINT8 reserved0, pm_profile;
	UINT16 sci_int;
	UINT32 smi_cmd;
	UINT8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	UINT32 pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	UINT8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len, gpe1_base,
		cst_cnt;
	UINT16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	UINT8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	UINT16 iapc_boot_arch;
	UINT8 reserved1;
	UINT32 flags;
	acpi_gas reset_reg;
	UINT8 reset_value;
	UINT8 reserved2[3];
	UINT64 x_firmware_ctrl, x_dsdt;
	acpi_gas x_pm1a_evt, x_pm1b_evt, x_pm1a_cnt, x_pm1b_cnt, x_pm2_cnt, x_pm_tmr, x_gpe0,
		x_gpe1;
} __attribute__((packed)) acpi_fadt;

typedef struct {
	EFI_STATUS(EFIAPI *install)(void *self, void *table, UINTN size, UINTN *key);
	EFI_STATUS(EFIAPI *uninstall)(void *self, UINTN key);
} acpi_table_protocol;

typedef struct {
	EFI_STATUS(EFIAPI *count)(void *self, UINTN *all, UINTN *enabled);
	EFI_STATUS(EFIAPI *info)(void *self, UINTN n, void *out);
} mp_services_protocol;

static EFI_GUID acpi_table_guid = {
	0xffe06bdd, 0x6107, 0x46a6, { 0x7b, 0xb2, 0x5a, 0x9c, 0x7e, 0xc5, 0x27, 0x5c }
};
static EFI_GUID mp_services_guid = {
	0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 }
};

/* \_S5_ = Package (4) { 0, 0, 0, 0 }: Bochs' PIIX4 powers off on SLP_TYP 0 (its BIOS DSDT says so). */
static const UINT8 s5_aml[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };

static UINT8 madt[36 + 8 + 64 * 8 + 12 + 5 * 10];
static acpi_fadt fadt;
static UINT8 dsdt[4096];
static UINTN dsdt_len;

static void outl(UINT16 port, UINT32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}

static UINT32 inl(UINT16 port)
{
	UINT32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static UINT32 pci_read(UINT32 fn, UINT8 reg)
{
	outl(PCI_ADDR, fn | reg);
	return inl(PCI_DATA);
}

static void header(acpi_header *h, const char *sig, UINT32 len, UINT8 rev)
{
	UINT8 sum = 0;

	CopyMem(h->signature, (void *)sig, 4);
	h->length = len;
	h->revision = rev;
	CopyMem(h->oem_id, "KEELTS", 6);
	CopyMem(h->oem_table_id, "BOCHSRIG", 8);
	h->oem_revision = 1;
	h->checksum = 0;
	for (UINT32 i = 0; i < len; i++)
		sum += ((UINT8 *)h)[i];
	h->checksum = (UINT8)-sum;
}

/* Interrupt Source Override (ACPI 6.5 5.2.12.5): ISA IRQ irq is GSI gsi, with these MPS INTI flags. */
static UINTN iso(UINTN len, UINT8 irq, UINT32 gsi, UINT16 flags)
{
	madt[len] = 2, madt[len + 1] = 10, madt[len + 2] = 0, madt[len + 3] = irq;
	*(UINT32 *)(madt + len + 4) = gsi;
	*(UINT16 *)(madt + len + 8) = flags;
	return len + 10;
}

/*
 * MADT (ACPI 6.5 5.2.12): one local APIC per CPU the firmware started, the
 * I/O APIC, IRQ0 -> GSI 2, and the ISA IRQs the PIRQs were routed to as PCI
 * interrupts, level and active low as the DSDT's _PRT says: Linux maps each
 * ISA IRQ with the MADT's flags first and will not map one again otherwise.
 */
static UINTN build_madt(mp_services_protocol *mp)
{
	UINT32 pirq = pci_read(PIIX3_ISA_FN, PIIX3_PIRQRC), pirq_irqs = 0;
	UINTN all = 1, enabled = 1, len = 44;
	UINT64 info[16];
	volatile UINT32 *ioapic = (UINT32 *)(UINTN)IOAPIC_BASE;

	if (mp)
		mp->count(mp, &all, &enabled);
	*(UINT32 *)(madt + 36) = LAPIC_BASE;
	*(UINT32 *)(madt + 40) = 1; /* PCAT_COMPAT */
	for (UINTN i = 0; i < all && i < 64; i++) {
		UINT8 *e = madt + len;

		info[0] = i;
		if (mp && mp->info(mp, i, info) != EFI_SUCCESS)
			continue;
		e[0] = 0, e[1] = 8, e[2] = (UINT8)i, e[3] = (UINT8)info[0];
		*(UINT32 *)(e + 4) = 1; /* enabled */
		len += 8;
	}
	ioapic[0] = 0; /* IOAPICID register */
	madt[len] = 1, madt[len + 1] = 12, madt[len + 2] = (UINT8)((ioapic[4] >> 24) & 0xf);
	*(UINT32 *)(madt + len + 4) = IOAPIC_BASE;
	*(UINT32 *)(madt + len + 8) = 0;
	len += 12;
	len = iso(len, 0, 2, 0);
	for (UINT32 i = 0; i < 4; i++) {
		UINT8 irq = (UINT8)(pirq >> (8 * i));

		if ((irq & PIRQ_OFF) || !irq || irq > 15 || (pirq_irqs & (1u << irq)))
			continue;
		pirq_irqs |= 1u << irq;
		len = iso(len, irq, irq, ISO_LEVEL_LOW);
	}
	header((acpi_header *)madt, "APIC", (UINT32)len, 3);
	return len;
}

/* FADT with the PM timer and PM1 blocks of the PIIX4 (if the firmware enabled them) and reset via 0xCF9. */
static void build_fadt(void)
{
	UINT32 pmba = pci_read(PIIX4_PM_FN, PIIX4_PMBA) & 0xffc0;
	BOOLEAN pm = (pci_read(PIIX4_PM_FN, 0) & 0xffff) == 0x8086 &&
		     (pci_read(PIIX4_PM_FN, PIIX4_PMREGMISC) & 1) && pmba;

	fadt.sci_int = 9;
	if (pm) {
		fadt.pm1a_evt = pmba;
		fadt.pm1a_cnt = pmba + 4;
		fadt.pm_tmr = pmba + 8;
		fadt.pm1_evt_len = 4;
		fadt.pm1_cnt_len = 2;
		fadt.pm_tmr_len = 4;
	}
	fadt.century = 0x32;
	fadt.iapc_boot_arch = 3;	   /* legacy devices, 8042 */
	fadt.flags = (1 << 0) | (1 << 10); /* WBINVD, RESET_REG_SUP */
	fadt.reset_reg = (acpi_gas){ 1, 8, 0, 1, RESET_PORT };
	fadt.reset_value = 6;
	fadt.dsdt = (UINT32)(UINTN)dsdt; /* AcpiTableDxe relinks both when it copies the DSDT */
	fadt.x_dsdt = (UINTN)dsdt;
	header(&fadt.h, "FACP", sizeof(fadt), 3);
}

/* --- the DSDT's AML (ACPI 6.5 chapter 20) --- */

static void emit(const void *p, UINTN n)
{
	CopyMem(dsdt + dsdt_len, (void *)p, n);
	dsdt_len += n;
}

static void emit_le(UINT64 v, UINTN bytes)
{
	for (UINTN i = 0; i < bytes; i++)
		dsdt[dsdt_len++] = (UINT8)(v >> (8 * i));
}

/* A PkgLength (20.2.4) always in its 3-byte form: reserved here, filled in by close_pkg. */
static UINTN open_pkg(UINT8 op)
{
	UINTN at;

	dsdt[dsdt_len++] = op;
	at = dsdt_len;
	dsdt_len += 3;
	return at;
}

static void close_pkg(UINTN at)
{
	UINTN n = dsdt_len - at;

	dsdt[at] = (UINT8)(0x80 | (n & 0xf)); /* bits 7:6 = 2 bytes follow */
	dsdt[at + 1] = (UINT8)(n >> 4);
	dsdt[at + 2] = (UINT8)(n >> 12);
}

/* Word, DWord and QWord Address Space Descriptors (6.4.3.5.1-3): a producer's fixed window. */
static void window(UINT8 tag, UINT8 type, UINT8 type_flags, UINT64 min, UINT64 len, UINTN size)
{
	static const UINT8 fixed = 0x0c; /* MinFixed, MaxFixed, PosDecode, ResourceProducer */

	emit_le(tag, 1);
	emit_le(3 + 5 * size, 2);
	emit_le(type, 1);
	emit_le(fixed, 1);
	emit_le(type_flags, 1);
	emit_le(0, size); /* granularity */
	emit_le(min, size);
	emit_le(min + len - 1, size);
	emit_le(0, size); /* translation */
	emit_le(len, size);
}

/*
 * _CRS of the root bridge: buses 0-FFh, the CF8h config ports, the rest of
 * I/O, the legacy VGA hole, a 32-bit window above the rig's RAM (bochs.py
 * gives at most 2 GiB) and a 64-bit one big enough for Keel's control
 * device, whose 16 GiB guest RAM window the service VM's Linux places.
 */
static void build_crs(void)
{
	static const UINT8 cf8[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08 };
	UINTN buf = open_pkg(0x11);
	UINTN size_at;

	emit_le(0x0b, 1); /* WordConst buffer size, patched below */
	size_at = dsdt_len;
	emit_le(0, 2);
	window(0x88, 2, 0, 0, 0x100, 2); /* WordBusNumber */
	emit(cf8, sizeof(cf8));		 /* IO (Decode16, 0xCF8, 0xCF8, 1, 8) */
	window(0x88, 1, 3, 0, 0xcf8, 2); /* WordIO, EntireRange */
	window(0x88, 1, 3, 0xd00, 0xf300, 2);
	window(0x87, 0, 3, 0xa0000, 0x20000, 4);		/* DWordMemory, cacheable RW */
	window(0x87, 0, 3, 0x80000000, 0x60000000, 4);		/* 2 GiB - 3.5 GiB */
	window(0x8a, 0, 3, 0x4000000000ULL, 0x800000000ULL, 8); /* QWordMemory: 32 GiB at 256 GiB */
	emit_le(0x79, 1);					/* End Tag, checksum 0 */
	emit_le(0, 1);
	*(UINT16 *)(dsdt + size_at) = (UINT16)(dsdt_len - size_at - 2);
	close_pkg(buf);
}

/*
 * _PRT (6.2.13) as the PIIX3 routes INTx: slot s pin p (0 = INTA) drives
 * PIRQ (s + p - 1) mod 4, and the firmware programmed each PIRQ's ISA IRQ
 * into its route control register. Source 0 makes the IRQ a GSI, level and
 * active low. The root bridge's Linux enumerates PCI (Keel's control device
 * among the functions) only through this device.
 */
static void build_prt(void)
{
	UINT32 pirq = pci_read(PIIX3_ISA_FN, PIIX3_PIRQRC);
	UINTN prt = open_pkg(0x12), count_at = dsdt_len++;
	UINT8 count = 0;

	for (UINT32 slot = 0; slot < 32; slot++) {
		for (UINT32 pin = 0; pin < 4; pin++) {
			UINT8 irq = (UINT8)(pirq >> (8 * ((slot + pin + 3) % 4)));
			UINTN entry;

			if ((irq & PIRQ_OFF) || !irq)
				continue;
			entry = open_pkg(0x12);
			emit_le(4, 1);
			emit_le(0x0c, 1); /* DWordConst address: the slot, any function */
			emit_le(slot << 16 | 0xffff, 4);
			emit_le(0x0a, 1); /* ByteConst pin */
			emit_le(pin, 1);
			emit_le(0, 1); /* ZeroOp: no link device */
			emit_le(0x0a, 1);
			emit_le(irq, 1);
			close_pkg(entry);
			count++;
		}
	}
	dsdt[count_at] = count;
	close_pkg(prt);
}

/* DSDT: \_S5_, and \_SB.PCI0, a PCI root bridge (PNP0A03) with its _CRS and _PRT. */
static void build_dsdt(void)
{
	static const UINT8 sb[] = { '\\', '_', 'S', 'B', '_' };
	static const UINT8 hid[] = { 0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03 };
	static const UINT8 uid[] = { 0x08, '_', 'U', 'I', 'D', 0x00 };
	UINTN scope, dev;

	dsdt_len = sizeof(acpi_header);
	emit(s5_aml, sizeof(s5_aml));
	scope = open_pkg(0x10); /* Scope (\_SB) */
	emit(sb, sizeof(sb));
	dsdt[dsdt_len++] = 0x5b; /* Device (PCI0) */
	dev = open_pkg(0x82);
	emit("PCI0", 4);
	emit(hid, sizeof(hid)); /* EisaId ("PNP0A03") */
	emit(uid, sizeof(uid));
	emit("\x08_CRS", 5);
	build_crs();
	emit("\x08_PRT", 5);
	build_prt();
	close_pkg(dev);
	close_pkg(scope);
	header((acpi_header *)dsdt, "DSDT", (UINT32)dsdt_len, 2);
}

static EFI_STATUS start_keel(EFI_HANDLE image)
{
	EFI_LOADED_IMAGE *li;
	EFI_DEVICE_PATH *path;
	EFI_HANDLE keel;
	EFI_STATUS st;

	st = BS->HandleProtocol(image, &LoadedImageProtocol, (void **)&li);
	if (EFI_ERROR(st))
		return st;
	path = FileDevicePath(li->DeviceHandle, L"\\EFI\\keel\\keel.efi");
	st = BS->LoadImage(FALSE, image, path, NULL, 0, &keel);
	if (EFI_ERROR(st)) {
		Print(L"bochs-acpi: cannot load \\EFI\\keel\\keel.efi: %r\n", st);
		return st;
	}
	return BS->StartImage(keel, NULL, NULL);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	acpi_table_protocol *acpi;
	mp_services_protocol *mp = NULL;
	UINTN key, madt_len;

	InitializeLib(image, st);
	if (EFI_ERROR(BS->LocateProtocol(&acpi_table_guid, NULL, (void **)&acpi))) {
		Print(L"bochs-acpi: no EFI_ACPI_TABLE_PROTOCOL\n");
		return EFI_UNSUPPORTED;
	}
	BS->LocateProtocol(&mp_services_guid, NULL, (void **)&mp);
	build_dsdt();
	build_fadt();
	madt_len = build_madt(mp);
	acpi->install(acpi, &fadt, sizeof(fadt), &key);
	acpi->install(acpi, dsdt, dsdt_len, &key);
	acpi->install(acpi, madt, madt_len, &key);
	Print(L"bochs-acpi: installed FACP, DSDT (%d bytes) and APIC (%d bytes)\n", (int)dsdt_len,
	      (int)madt_len);
	return start_keel(image);
}
