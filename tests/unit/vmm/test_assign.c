// SPDX-License-Identifier: MIT
/*
 * Host tests of a VM's PCI functions (vmm/pci/assign*.c) over a fake config
 * space: where the service VM may place a function's memory, that Keel
 * writes an MSI-X table only where the function really decodes it, and that a
 * masked MSI-X entry or a disabled MSI gives back its vector and remapping entry.
 */
#include <arch/x86/paging.h>
#include <keel/assign.h>
#include <keel/control.h>
#include <keel/service_vm.h>
#include <keel/vm.h>
#include "test.h"
#include <stdlib.h>
#include <sys/mman.h>

/* --- one function, 00:03.0: BAR0 64 KiB of memory (its MSI-X table at 0), BAR1 I/O, a ROM --- */
#define BDF PCI_BDF(0, 3, 0)

/* assign_init's tables live as long as Keel does (each test starts it again). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}
#define BAR0_SIZE 0x10000u
#define ROM_SIZE 0x8000u
#define MSIX_CAP 0x40
#define MSIX_N 4

struct pci_func pci_funcs[PCI_MAX_FUNCS];
u32 pci_nr_funcs;
static u8 cfg[4096];
/* "RAM that is not the VM's" and a stretch of "MMIO hole": host pages at these very addresses */
#define RAM_AT 0x40000000ULL
#define HOLE_AT 0x50000000ULL
static u8 *ram, *hole;
static u64 ram_base, ram_end;
static struct pci_span mapped[PCI_FN_SPANS];
static struct mmio_handler trap_handler;
static struct vm svc;

static u32 get(u32 off, u32 size)
{
	u32 v = 0;

	memcpy(&v, cfg + off, size);
	return v;
}

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	return bdf == BDF ? get(off, size) : (size == 4 ? 0xffffffff : (1u << (size * 8)) - 1);
}

/* BARs keep only their address bits (PCI 3.0 6.2.5.1), as a device does. */
void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	if (bdf != BDF)
		return;
	memcpy(cfg + off, &val, size);
	if (off == PCI_BAR0)
		*(u32 *)(cfg + PCI_BAR0) = (get(PCI_BAR0, 4) & ~(BAR0_SIZE - 1)) & ~0xfu;
	if (off == PCI_BAR0 + 4)
		*(u32 *)(cfg + PCI_BAR0 + 4) = (get(PCI_BAR0 + 4, 4) & ~0xffu) | 1; /* 256 ports */
	if (off == 0x30)
		*(u32 *)(cfg + 0x30) = get(0x30, 4) & (~(ROM_SIZE - 1) | 1);
}

struct pci_func *pci_find(u16 bdf)
{
	return bdf == BDF ? &pci_funcs[0] : NULL;
}

bool control_cfg_read(u16 bdf, u32 off, u32 size, u32 *val)
{
	(void)bdf, (void)off, (void)size, (void)val;
	return false;
}

bool control_cfg_write(u16 bdf, u32 off, u32 size, u32 val)
{
	(void)bdf, (void)off, (void)size, (void)val;
	return false;
}

bool service_map_place_ok(u64 base, u64 size, bool window, char *why, size_t len)
{
	(void)window;
	if (base < ram_end && ram_base < base + size) {
		snprintf(why, len, "on RAM");
		return false;
	}
	return true;
}

void service_map_set_fn(u32 idx, const struct pci_span *spans)
{
	(void)idx;
	memcpy(mapped, spans, sizeof(mapped));
}

void service_map_set_foreign(u32 idx, const struct pci_span *spans)
{
	(void)idx, (void)spans;
}

void service_map_claim(u64 base, u64 size)
{
	(void)base, (void)size;
}

void service_map_unclaim(u64 base, u64 size)
{
	(void)base, (void)size;
}

int paging_map_io(u64 base, u64 size)
{
	(void)base, (void)size;
	return 0;
}

struct mmio_handler *vm_register_mmio(struct vm *vm, const struct mmio_handler *h)
{
	(void)vm;
	trap_handler = *h;
	return &trap_handler;
}

int cfg_trap_init(struct vm *vm)
{
	(void)vm;
	return 0;
}

void *page_alloc_zeroed(u64 pages)
{
	return calloc(pages, PAGE_SIZE);
}

bool irq_route_from_msi(struct irq_route *r, struct vm *vm, u64 addr, u32 data)
{
	(void)r, (void)vm;
	return (addr & 0xfff00000) == 0xfee00000 && data;
}

int irq_route_bind(struct irq_route *r)
{
	(void)r;
	return 0;
}

int irq_route_msi(struct irq_route *r, u16 bdf, u64 *addr, u32 *data)
{
	(void)r, (void)bdf;
	*addr = 0xfee00000;
	*data = 0x41;
	return 0;
}

/* Unbinds, and the device's own MSI-X entry 0 control word (BAR0 at HOLE_AT) and MSI control then. */
static u32 unbinds, entry0_ctrl_at_unbind;
static u16 msi_ctrl_at_unbind;

void irq_route_unbind(struct irq_route *r)
{
	(void)r;
	unbinds++;
	entry0_ctrl_at_unbind = *(volatile u32 *)(uintptr_t)(HOLE_AT + 12);
	msi_ctrl_at_unbind = (u16)(cfg[0x50 + PCI_MSI_CTRL] | cfg[0x50 + PCI_MSI_CTRL + 1] << 8);
}

static void intercept_io(struct vm *vm, u16 port, bool on)
{
	(void)vm, (void)port, (void)on;
}

static const struct vcpu_ops ops = { .intercept_io = intercept_io };
const struct vcpu_ops *vcpu_ops = &ops;

/* The bytes of "RAM" Keel must never write: all still the fill? */
static bool ram_untouched(void)
{
	for (u64 a = ram_base; a < ram_end; a++)
		if (ram[a - RAM_AT] != 0xa5)
			return false;
	return true;
}

static void setup(void)
{
	struct boot_info bi;

	memset(cfg, 0, sizeof(cfg));
	memset(&bi, 0, sizeof(bi));
	memset(&svc, 0, sizeof(svc));
	memset(mapped, 0, sizeof(mapped));
	*(u32 *)(cfg + 0) = 0x10ec8086;
	*(u32 *)(cfg + PCI_BAR0 + 4) = 1; /* BAR1: I/O */
	cfg[PCI_STATUS] = 0;
	cfg[PCI_STATUS + 1] = 0;
	*(u16 *)(cfg + PCI_STATUS) = PCI_STATUS_CAP_LIST;
	cfg[PCI_CAP_PTR] = MSIX_CAP;
	cfg[MSIX_CAP] = PCI_CAP_ID_MSIX;
	*(u16 *)(cfg + MSIX_CAP + 2) = MSIX_N - 1;
	*(u32 *)(cfg + MSIX_CAP + 4) = 0; /* table in BAR0 at 0 */
	if (!ram) {
		ram = mmap((void *)RAM_AT, 4 * BAR0_SIZE, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		hole = mmap((void *)HOLE_AT, 2 * BAR0_SIZE, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		CHECK(ram == (void *)RAM_AT && hole == (void *)HOLE_AT);
	}
	memset(ram, 0xa5, 4 * BAR0_SIZE);
	memset(hole, 0, 2 * BAR0_SIZE);
	ram_base = RAM_AT + BAR0_SIZE / 2; /* RAM begins half-way into a BAR's alignment */
	ram_end = RAM_AT + 4 * BAR0_SIZE;
	/* the firmware placed BAR0 in the hole, decoding on */
	*(u32 *)(cfg + PCI_BAR0) = (u32)HOLE_AT;
	*(u16 *)(cfg + PCI_COMMAND) = PCI_CMD_MEMORY;
	pci_funcs[0] = (struct pci_func){ .bdf = BDF, .header_type = 0, .msix_cap = MSIX_CAP };
	pci_nr_funcs = 1;
	pci_probe_bars(&pci_funcs[0]);
	CHECK_EQ(pci_funcs[0].bar[0].size, BAR0_SIZE);
	CHECK_EQ(pci_funcs[0].rom_size, ROM_SIZE);
	CHECK_EQ(assign_init(&svc, &bi), 0);
}

static void cfg_write(u32 off, u32 size, u32 val)
{
	assign_cfg_write(BDF, off, size, val);
}

/* The whole BAR counts, not its first page: one reaching into RAM is not decoded. */
TEST(a_bar_reaching_into_ram_is_not_decoded)
{
	setup();
	CHECK(mapped[0].end - mapped[0].base == BAR0_SIZE); /* where the firmware put it */
	/* its first half in the hole, its second on RAM */
	cfg_write(PCI_BAR0, 4, (u32)RAM_AT);
	CHECK(!(get(PCI_COMMAND, 2) & PCI_CMD_MEMORY));
	CHECK_EQ(mapped[0].end, 0);
	cfg_write(PCI_COMMAND, 2, PCI_CMD_MEMORY); /* asked again: still refused */
	CHECK(!(get(PCI_COMMAND, 2) & PCI_CMD_MEMORY));
	CHECK(ram_untouched());
}

/* An expansion ROM enabled over RAM is refused too. */
TEST(a_rom_over_ram_is_not_decoded)
{
	setup();
	cfg_write(0x30, 4, (u32)(RAM_AT + BAR0_SIZE) | 1);
	CHECK(!(get(PCI_COMMAND, 2) & PCI_CMD_MEMORY));
	CHECK_EQ(mapped[PCI_ROM_SPAN].end, 0);
	CHECK_EQ(mapped[0].end, 0);
}

/*
 * BAR0 moved onto RAM while decoding is off, then MSI-X turned on with an
 * unmasked entry: Keel must not write "the table" at the BAR's address, which
 * is RAM (it did, through the config write of the MSI-X control word).
 */
TEST(msix_table_never_written_where_the_bar_does_not_decode)
{
	u64 val;

	setup();
	cfg_write(PCI_COMMAND, 2, 0);
	cfg_write(PCI_BAR0, 4, (u32)(RAM_AT + BAR0_SIZE)); /* all of it on RAM */
	/* the guest's view of entry 0, through the trap while it was mapped: unmasked */
	trap_handler.write(NULL, trap_handler.opaque, 0, 4, 0xfee00000);
	trap_handler.write(NULL, trap_handler.opaque, 8, 4, 0x41);
	trap_handler.write(NULL, trap_handler.opaque, 12, 4, 0);
	cfg_write(MSIX_CAP + 2, 2, (u16)(1u << 15)); /* MSI-X enable */
	cfg_write(PCI_COMMAND, 2, PCI_CMD_MEMORY);
	CHECK(!(get(PCI_COMMAND, 2) & PCI_CMD_MEMORY));
	CHECK(ram_untouched());
	val = 0;
	trap_handler.read(NULL, trap_handler.opaque, 8, 4, &val); /* Keel's view is kept */
	CHECK_EQ(val, 0x41);
}

/* Where it may decode, decoding comes back and the table is programmed with Keel's vector. */
TEST(a_bar_moved_within_the_hole_decodes_and_gets_its_table)
{
	setup();
	cfg_write(PCI_COMMAND, 2, 0);
	cfg_write(PCI_BAR0, 4, (u32)(HOLE_AT + BAR0_SIZE));
	trap_handler.write(NULL, trap_handler.opaque, 0, 4, 0xfee00000);
	trap_handler.write(NULL, trap_handler.opaque, 8, 4, 0x41);
	trap_handler.write(NULL, trap_handler.opaque, 12, 4, 0);
	cfg_write(PCI_COMMAND, 2, PCI_CMD_MEMORY);
	CHECK(get(PCI_COMMAND, 2) & PCI_CMD_MEMORY);
	CHECK_EQ(mapped[0].base, HOLE_AT + BAR0_SIZE);
	CHECK_EQ(*(volatile u32 *)(uintptr_t)(HOLE_AT + BAR0_SIZE + 8), 0x41); /* Keel's data */
	CHECK(ram_untouched());
}

/* A masked MSI-X entry gives back its vector and remapping entry, after the device's entry is masked. */
TEST(a_masked_msix_entry_is_unbound_once_the_device_masks_it)
{
	setup();
	trap_handler.write(NULL, trap_handler.opaque, 0, 4, 0xfee00000);
	trap_handler.write(NULL, trap_handler.opaque, 8, 4, 0x41);
	unbinds = 0;
	trap_handler.write(NULL, trap_handler.opaque, 12, 4, 0); /* unmasked: programmed */
	CHECK_EQ(*(volatile u32 *)(uintptr_t)(HOLE_AT + 8), 0x41);
	CHECK_EQ(*(volatile u32 *)(uintptr_t)(HOLE_AT + 12), 0);
	CHECK_EQ(unbinds, 0);
	trap_handler.write(NULL, trap_handler.opaque, 12, 4, PCI_MSIX_ENTRY_MASKED);
	CHECK_EQ(unbinds, 1);
	CHECK_EQ(entry0_ctrl_at_unbind, PCI_MSIX_ENTRY_MASKED);
}

/* MSI turned off gives back its vector and remapping entry, once the device's MSI is disabled. */
TEST(a_disabled_msi_is_unbound_once_the_device_stops_it)
{
	const u32 msi = 0x50; /* where irq_route_unbind above looks */

	setup();
	pci_funcs[0].msi_cap = msi; /* a 32-bit MSI capability beside MSI-X */
	cfg[msi] = PCI_CAP_ID_MSI;
	cfg_write(msi + PCI_MSI_ADDR_LO, 4, 0xfee00000);
	cfg_write(msi + PCI_MSI_DATA_32, 2, 0x41);
	unbinds = 0;
	cfg_write(msi + PCI_MSI_CTRL, 2, PCI_MSI_CTRL_ENABLE);
	CHECK(get(msi + PCI_MSI_CTRL, 2) & PCI_MSI_CTRL_ENABLE); /* on, with Keel's message */
	CHECK_EQ(get(msi + PCI_MSI_DATA_32, 2), 0x41);
	CHECK_EQ(unbinds, 0);
	msi_ctrl_at_unbind = PCI_MSI_CTRL_ENABLE;
	cfg_write(msi + PCI_MSI_CTRL, 2, 0);
	CHECK_EQ(unbinds, 1);
	CHECK_EQ(msi_ctrl_at_unbind & PCI_MSI_CTRL_ENABLE, 0);
}
