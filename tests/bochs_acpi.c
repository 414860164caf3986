// SPDX-License-Identifier: MIT
/*
 * The Bochs rig's boot shim: OVMF finds its ACPI tables only through QEMU's
 * fw_cfg, which Bochs 2.7 lacks, so under Bochs the firmware publishes none
 * and Keel (rightly) refuses to boot. This UEFI app describes the emulated
 * PC in ACPI (MADT from the firmware's MP services, FADT from the PIIX4 PM
 * block the firmware programmed, a DSDT with \_S5), installs the tables
 * through EFI_ACPI_TABLE_PROTOCOL, and starts the unchanged Keel from
 * \EFI\keel\keel.efi on the same volume. Used only by tests/bochs.py.
 */
#include <efi.h>
#include <efilib.h>

#define PCI_ADDR 0xcf8
#define PCI_DATA 0xcfc
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

static UINT8 madt[36 + 8 + 64 * 8 + 12 + 10];
static acpi_fadt fadt;
static UINT8 dsdt[sizeof(acpi_header) + sizeof(s5_aml)];

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

/* MADT (ACPI 6.5 5.2.12): one local APIC per CPU the firmware started, the I/O APIC, IRQ0 -> GSI 2. */
static UINTN build_madt(mp_services_protocol *mp)
{
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
	madt[len] = 2, madt[len + 1] = 10, madt[len + 2] = 0, madt[len + 3] = 0;
	*(UINT32 *)(madt + len + 4) = 2;
	*(UINT16 *)(madt + len + 8) = 0;
	len += 10;
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
	CopyMem(dsdt + sizeof(acpi_header), (void *)s5_aml, sizeof(s5_aml));
	header((acpi_header *)dsdt, "DSDT", sizeof(dsdt), 2);
	build_fadt();
	madt_len = build_madt(mp);
	acpi->install(acpi, &fadt, sizeof(fadt), &key);
	acpi->install(acpi, dsdt, sizeof(dsdt), &key);
	acpi->install(acpi, madt, madt_len, &key);
	Print(L"bochs-acpi: installed FACP, DSDT and APIC (%d bytes)\n", (int)madt_len);
	return start_keel(image);
}
