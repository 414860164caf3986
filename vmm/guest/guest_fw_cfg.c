// SPDX-License-Identifier: MIT
/*
 * What a guest's fw_cfg serves, from the same facts as the rest of its
 * platform: its CPUs, its RAM, the e820 map of guest_map.c and the ACPI
 * tables of acpi_build.c, these last as QEMU hands them to firmware: two
 * blobs (etc/acpi/rsdp, etc/acpi/tables) and the commands that place them
 * and patch their pointers and checksums (etc/table-loader, in the format
 * of QEMU's hw/acpi/bios-linker-loader.c).
 */
#include <keel/acpi.h>
#include <keel/fw_cfg.h>
#include <keel/guest.h>
#include <keel/guest_acpi.h>
#include <keel/page_alloc.h>
#include <lib/string.h>
#include <keel/vm.h>

#define LOADER_FILE_MAX FW_CFG_NAME_MAX
#define LOADER_ALLOCATE 1 /* BIOS_LINKER_LOADER_COMMAND_* */
#define LOADER_ADD_POINTER 2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH 1 /* BIOS_LINKER_LOADER_ALLOC_ZONE_*: anywhere, or the F segment */
#define LOADER_ZONE_FSEG 2
#define LOADER_ENTRY_SIZE 128
#define LOADER_ENTRIES (2 + GUEST_ACPI_POINTERS + GUEST_ACPI_TABLES + 2)
#define TABLES_ALIGN 64
#define RSDP_ALIGN 16  /* ACPI 6.5 5.2.5.1: on a 16-byte boundary */
#define RSDP_V1_LEN 20 /* ACPI 6.5 table 5.3: the ACPI 1.0 checksum covers these */
#define SDT_CHECKSUM 9 /* struct acpi_header.checksum */
#define FILE_RSDP "etc/acpi/rsdp"
#define FILE_TABLES "etc/acpi/tables"

struct loader_entry {
	u32 command;
	union {
		struct {
			char file[LOADER_FILE_MAX];
			u32 align;
			u8 zone;
		} __packed alloc;
		struct { /* dest's field at offset += the address src was placed at */
			char dest[LOADER_FILE_MAX];
			char src[LOADER_FILE_MAX];
			u32 offset;
			u8 size;
		} __packed pointer;
		struct { /* file[offset] -= the byte sum of file[start .. start + length) */
			char file[LOADER_FILE_MAX];
			u32 offset, start, length;
		} __packed cksum;
		u8 pad[LOADER_ENTRY_SIZE - 4];
	};
} __packed;
BUILD_ASSERT(sizeof(struct loader_entry) == LOADER_ENTRY_SIZE, "bios-linker-loader.c");

struct loader {
	u32 n;
	struct loader_entry e[LOADER_ENTRIES];
};

static struct loader_entry *next(struct loader *l, u32 command)
{
	struct loader_entry *e = &l->e[l->n++];

	e->command = command;
	return e;
}

static void alloc(struct loader *l, const char *file, u32 align, u8 zone)
{
	struct loader_entry *e = next(l, LOADER_ALLOCATE);

	strlcpy(e->alloc.file, file, LOADER_FILE_MAX);
	e->alloc.align = align;
	e->alloc.zone = zone;
}

static void pointer(struct loader *l, const char *dest, u32 offset, u8 size)
{
	struct loader_entry *e = next(l, LOADER_ADD_POINTER);

	strlcpy(e->pointer.dest, dest, LOADER_FILE_MAX);
	strlcpy(e->pointer.src, FILE_TABLES, LOADER_FILE_MAX);
	e->pointer.offset = offset;
	e->pointer.size = size;
}

static void cksum(struct loader *l, const char *file, u32 offset, u32 start, u32 len)
{
	struct loader_entry *e = next(l, LOADER_ADD_CHECKSUM);

	strlcpy(e->cksum.file, file, LOADER_FILE_MAX);
	e->cksum.offset = offset;
	e->cksum.start = start;
	e->cksum.length = len;
}

/*
 * The tables built for address 0 hold offsets where they point at each
 * other; etc/acpi/tables is that buffer with the RSDP's bytes cleared (its
 * offsets are the pointers' values), etc/acpi/rsdp the RSDP alone.
 */
static void build_loader(struct loader *l, const struct guest_acpi_layout *lay)
{
	alloc(l, FILE_RSDP, RSDP_ALIGN, LOADER_ZONE_FSEG);
	alloc(l, FILE_TABLES, TABLES_ALIGN, LOADER_ZONE_HIGH);
	for (u32 i = 0; i < GUEST_ACPI_POINTERS; i++)
		pointer(l, lay->pointer[i].off < lay->rsdp_len ? FILE_RSDP : FILE_TABLES,
			lay->pointer[i].off, (u8)lay->pointer[i].size);
	for (u32 i = 0; i < GUEST_ACPI_TABLES; i++)
		cksum(l, FILE_TABLES, lay->table[i].off + SDT_CHECKSUM, lay->table[i].off,
		      lay->table[i].len);
	cksum(l, FILE_RSDP, offsetof(struct acpi_rsdp, checksum), 0, RSDP_V1_LEN);
	cksum(l, FILE_RSDP, offsetof(struct acpi_rsdp, ext_checksum), 0, lay->rsdp_len);
}

/*
 * The checksum fields are 0 in the blobs, as QEMU has them: OVMF stores the
 * checksum of the range with the field in it (QemuFwCfgAcpi.c), which is
 * right only from 0, and with a wrong one it takes a table for opaque data
 * and installs no ACPI tables at all; SeaBIOS subtracts, right either way.
 */
static void clear_checksums(u8 *buf, const struct guest_acpi_layout *lay)
{
	for (u32 i = 0; i < GUEST_ACPI_TABLES; i++)
		buf[lay->table[i].off + SDT_CHECKSUM] = 0;
	buf[offsetof(struct acpi_rsdp, checksum)] = 0;
	buf[offsetof(struct acpi_rsdp, ext_checksum)] = 0;
}

static int add_acpi(struct fw_cfg *f, const struct guest_platform *p)
{
	u8 *buf = page_alloc_zeroed(GUEST_ACPI_SIZE / PAGE_SIZE);
	struct loader *l = page_alloc_zeroed(1);
	struct guest_acpi_layout lay;
	int n = -ENOMEM, ret;

	BUILD_ASSERT(sizeof(struct loader) <= PAGE_SIZE, "one page");
	if (buf && l)
		n = guest_acpi_build(p, 0, buf, GUEST_ACPI_SIZE);
	if (n > 0) {
		guest_acpi_layout(p, buf, &lay);
		build_loader(l, &lay);
		clear_checksums(buf, &lay);
		ret = fw_cfg_add_file(f, FILE_RSDP, buf, lay.rsdp_len);
		memset(buf, 0, lay.tables_start);
		ret = ret ?: fw_cfg_add_file(f, FILE_TABLES, buf, (u32)n);
		n = ret ?: fw_cfg_add_file(f, "etc/table-loader", l->e, l->n * LOADER_ENTRY_SIZE);
	}
	if (buf)
		page_free(buf, GUEST_ACPI_SIZE / PAGE_SIZE);
	if (l)
		page_free(l, 1);
	return n < 0 ? n : 0;
}

int guest_fw_cfg_attach(struct vm *vm, const struct guest_platform *p)
{
	struct fw_cfg *f = fw_cfg_create(vm);
	struct e820_entry e820[GUEST_E820_MAX];
	u32 nr = vm->firmware ? guest_fw_e820(vm->ram_size, e820) : guest_e820(vm->ram_size, e820);
	u64 ram = vm->ram_size;
	u16 cpus = (u16)p->nr_vcpus; /* APIC IDs 0..n-1: NB_CPUS and MAX_CPUS agree */

	if (!f)
		return -ENOMEM;
	if (fw_cfg_add(f, FW_CFG_RAM_SIZE, &ram, sizeof(ram)) ||
	    fw_cfg_add(f, FW_CFG_NB_CPUS, &cpus, sizeof(cpus)) ||
	    fw_cfg_add(f, FW_CFG_MAX_CPUS, &cpus, sizeof(cpus)) ||
	    fw_cfg_add_file(f, "etc/e820", e820, nr * sizeof(e820[0])))
		return -ENOMEM;
	return add_acpi(f, p);
}
