// SPDX-License-Identifier: MIT
/*
 * Host tests of a VM's PCI functions (vmm/pci/assign*.c) over a fake config
 * space: where the service VM may place a function's memory, that Keel
 * writes an MSI-X table only where the function really decodes it, that a
 * masked MSI-X entry or a disabled MSI gives back its vector and remapping
 * entry, and the config writes it may not make (assign_guard.c): bus
 * numbers, the windows and resets of a bridge above a function it does not
 * own, ATS/PRI/PASID.
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

/* its extended capabilities: ATS, PRI, PASID (PCIe 5.0 7.6.3 headers, version 1) */
#define ATS_AT 0x100
#define PRI_AT 0x110
#define PASID_AT 0x120

/*
 * Two root ports and what is behind them: 00:1c.0 bridges to bus 2, where
 * 02:00.0 is reserved (not the service VM's); 00:1d.0 bridges to bus 3,
 * where 03:00.0 is the service VM's. Each port has a PCI Express capability.
 */
#define FOREIGN_PORT PCI_BDF(0, 0x1c, 0)
#define RESERVED_FN PCI_BDF(2, 0, 0)
#define OWN_PORT PCI_BDF(0, 0x1d, 0)
#define OWN_FN PCI_BDF(3, 0, 0)
#define EXP_CAP 0x40
#define NR_OTHERS 4
static const u16 others[NR_OTHERS] = { FOREIGN_PORT, RESERVED_FN, OWN_PORT, OWN_FN };
static u8 other_cfg[NR_OTHERS][4096];

struct pci_func pci_funcs[PCI_MAX_FUNCS];
u32 pci_nr_funcs;
static u8 cfg[4096];
extern char fake_log_all[8192];
void fake_log_clear(void);
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

static u8 *other(u16 bdf)
{
	for (u32 i = 0; i < NR_OTHERS; i++)
		if (others[i] == bdf)
			return other_cfg[i];
	return NULL;
}

static u32 other_get(u16 bdf, u32 off, u32 size)
{
	u32 v = 0;

	memcpy(&v, other(bdf) + off, size);
	return v;
}

u32 pci_read(u16 bdf, u32 off, u32 size)
{
	if (bdf != BDF && other(bdf))
		return other_get(bdf, off, size);
	return bdf == BDF ? get(off, size) : (size == 4 ? 0xffffffff : (1u << (size * 8)) - 1);
}

/* BARs keep only their address bits (PCI 3.0 6.2.5.1), as a device does. */
void pci_write(u16 bdf, u32 off, u32 size, u32 val)
{
	if (other(bdf)) { /* no BARs, no ROM: those read as zero */
		u32 rom = other(bdf)[PCI_HEADER_TYPE] == 1 ? PCI_ROM_TYPE1 : PCI_ROM_TYPE0;

		if (!(off >= PCI_BAR0 && off < PCI_BAR0 + 8) && off != rom)
			memcpy(other(bdf) + off, &val, size);
		return;
	}
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
	for (u32 i = 0; i < pci_nr_funcs; i++)
		if (pci_funcs[i].bdf == bdf)
			return &pci_funcs[i];
	return NULL;
}

u8 pci_find_cap(u16 bdf, u8 id)
{
	u8 off = (pci_read(bdf, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) ?
			 (u8)pci_read(bdf, PCI_CAP_PTR, 1) :
			 0;

	for (int n = 0; off && n < 48; n++, off = (u8)pci_read(bdf, off + 1, 1))
		if ((u8)pci_read(bdf, off, 1) == id)
			return off;
	return 0;
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
	if (idx == 0) /* 00:03.0's */
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

/* The ports' bus numbers, windows and PCI Express capability; what is behind them. */
static void setup_others(void)
{
	fake_log_clear();
	memset(other_cfg, 0, sizeof(other_cfg));
	for (u32 i = 0; i < NR_OTHERS; i++) {
		u8 *c = other_cfg[i];
		bool port = others[i] == FOREIGN_PORT || others[i] == OWN_PORT;

		*(u32 *)c = 0x7a008086;
		pci_funcs[1 + i] = (struct pci_func){ .bdf = others[i],
						      .header_type = port ? 1 : 0,
						      .hidden = others[i] == RESERVED_FN,
						      .owner = others[i] == RESERVED_FN ?
								       "reserved" :
								       "service" };
		if (!port)
			continue;
		c[PCI_HEADER_TYPE] = 1;
		c[0x18] = 0; /* primary, secondary, subordinate */
		c[0x19] = c[0x1a] = (u8)(others[i] == FOREIGN_PORT ? 2 : 3);
		*(u16 *)(c + 0x1c) = 0x2020;	 /* I/O window 0x2000-0x2fff */
		*(u32 *)(c + 0x20) = 0xfe10fe00; /* memory window 0xfe000000-0xfe1fffff */
		*(u32 *)(c + 0x24) = 0x0001fff1; /* no prefetchable window (limit < base) */
		*(u16 *)(c + PCI_STATUS) = PCI_STATUS_CAP_LIST;
		c[PCI_CAP_PTR] = EXP_CAP;
		c[EXP_CAP] = 0x10;
	}
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
	*(u32 *)(cfg + ATS_AT) = 0x0f | 1 << 16 | (u32)PRI_AT << 20;
	*(u32 *)(cfg + PRI_AT) = 0x13 | 1 << 16 | (u32)PASID_AT << 20;
	*(u32 *)(cfg + PASID_AT) = 0x1b | 1 << 16;
	*(u16 *)(cfg + ATS_AT + 6) = BIT(15); /* the firmware left ATS on */
	setup_others();
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
	pci_funcs[0] = (struct pci_func){
		.bdf = BDF, .header_type = 0, .msix_cap = MSIX_CAP, .owner = "service"
	};
	pci_nr_funcs = 1 + NR_OTHERS;
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

/* --- assign_guard.c: what the service VM may not change --- */

static u32 port_get(u16 bdf, u32 off, u32 size)
{
	return other_get(bdf, off, size);
}

/* How many log lines hold `what`. */
static int logged(const char *what)
{
	int n = 0;

	for (const char *p = fake_log_all; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* Bus numbers name requester ids: fixed on every bridge, its own included. */
TEST(bus_numbers_are_fixed_on_every_bridge)
{
	setup();
	assign_cfg_write(OWN_PORT, PCI_SECONDARY_BUS, 1, 2); /* onto the reserved function's bus */
	CHECK_EQ(port_get(OWN_PORT, PCI_SECONDARY_BUS, 1), 3);
	CHECK_EQ(assign_cfg_read(OWN_PORT, PCI_SECONDARY_BUS, 1), 3);
	assign_cfg_write(OWN_PORT, PCI_SECONDARY_BUS, 1, 4); /* logged once per register */
	CHECK_EQ(logged("pci 00:1d.0: the service VM changed the secondary bus number, which "
			"requester ids depend on: write refused"),
		 1);
	/* a dword: the subordinate bus keeps its value, the latency timer beside it is written */
	assign_cfg_write(OWN_PORT, 0x18, 4, 0x40090300);
	CHECK_EQ(port_get(OWN_PORT, 0x18, 4), 0x40030300);
	CHECK_EQ(logged("subordinate bus number"), 1);
	assign_cfg_write(FOREIGN_PORT, 0x18, 1, 1);
	CHECK_EQ(port_get(FOREIGN_PORT, 0x18, 1), 0);
	CHECK_EQ(logged("pci 00:1c.0: the service VM changed the primary bus number"), 1);
	/* the values found at boot (Linux restoring a bridge after a reset) are no change */
	other_cfg[2][0x19] = 0; /* 00:1d.0 after a reset from above */
	fake_log_clear();
	assign_cfg_write(OWN_PORT, 0x18, 4, 0x00030300);
	CHECK_EQ(port_get(OWN_PORT, 0x18, 4), 0x00030300);
	CHECK_EQ(fake_log_all[0], 0);
}

/* Above a function it does not own: windows, their upper halves, resets keep their values. */
TEST(a_bridge_above_a_reserved_function_keeps_its_windows_and_resets)
{
	static const struct {
		u32 off, size, val;
		const char *name;
	} w[] = {
		{ 0x1c, 2, 0x3030, "I/O window" },
		{ 0x20, 4, 0x00100000, "memory window" },
		{ 0x24, 4, 0xfff1fff1, "prefetchable window" },
		{ 0x28, 4, 0x1, "prefetchable window's upper base" },
		{ 0x2c, 4, 0x1, "prefetchable window's upper limit" },
		{ 0x30, 4, 0x00010001, "I/O window's upper halves" },
	};

	setup();
	for (u32 i = 0; i < ARRAY_SIZE(w); i++) {
		u32 before = port_get(FOREIGN_PORT, w[i].off, w[i].size);
		char line[160];

		assign_cfg_write(FOREIGN_PORT, w[i].off, w[i].size, w[i].val);
		CHECK_EQ(port_get(FOREIGN_PORT, w[i].off, w[i].size), before);
		snprintf(
			line, sizeof(line),
			"pci 00:1c.0: the service VM changed the %s, above 02:00.0, which is not its: "
			"write refused",
			w[i].name);
		CHECK_EQ(logged(line), 1);
	}
	/* secondary status beside the I/O window: its bits are written (RW1C) */
	assign_cfg_write(FOREIGN_PORT, 0x1c, 4, 0x80004040);
	CHECK_EQ(port_get(FOREIGN_PORT, 0x1c, 4), 0x80002020);
	/* bridge control: secondary bus reset refused, SERR# enable beside it written */
	assign_cfg_write(FOREIGN_PORT, 0x3e, 2, BIT(6) | BIT(1));
	CHECK_EQ(port_get(FOREIGN_PORT, 0x3e, 2), BIT(1));
	CHECK_EQ(logged("the service VM changed the secondary bus reset, above 02:00.0"), 1);
	assign_cfg_write(FOREIGN_PORT, 0x3c, 4, (u32)(BIT(6) | BIT(1)) << 16 | 0x0b);
	CHECK_EQ(port_get(FOREIGN_PORT, 0x3c, 4), (u32)BIT(1) << 16 | 0x0b); /* interrupt line */
	/* link disable (a reset of what is below too), retrain link beside it written */
	assign_cfg_write(FOREIGN_PORT, EXP_CAP + 0x10, 2, BIT(4) | BIT(5));
	CHECK_EQ(port_get(FOREIGN_PORT, EXP_CAP + 0x10, 2), BIT(5));
	CHECK_EQ(logged("the service VM changed the link disable, above 02:00.0"), 1);
	/* slot power off, attention indicator beside it written */
	assign_cfg_write(FOREIGN_PORT, EXP_CAP + 0x18, 2, BIT(10) | 0x40);
	CHECK_EQ(port_get(FOREIGN_PORT, EXP_CAP + 0x18, 2), 0x40);
	CHECK_EQ(logged("the service VM changed the slot power control, above 02:00.0"), 1);
	/* reads are the device's */
	CHECK_EQ(assign_cfg_read(FOREIGN_PORT, 0x20, 4), 0xfe10fe00);
	/* the same addresses with other read-only type bits (as Linux writes them): no change */
	fake_log_clear();
	assign_cfg_write(FOREIGN_PORT, 0x24, 4, 0x0000fff0);
	CHECK_EQ(fake_log_all[0], 0);
}

/* Only its own functions below: windows and resets are its own (bus numbers are not). */
TEST(a_bridge_above_its_own_functions_stays_writable)
{
	setup();
	assign_cfg_write(OWN_PORT, 0x1c, 2, 0x3030);
	assign_cfg_write(OWN_PORT, 0x20, 4, 0xfe30fe20);
	assign_cfg_write(OWN_PORT, 0x28, 4, 0x1);
	assign_cfg_write(OWN_PORT, 0x30, 4, 0x00010001);
	assign_cfg_write(OWN_PORT, 0x3e, 2, BIT(6));
	assign_cfg_write(OWN_PORT, EXP_CAP + 0x10, 2, BIT(4));
	assign_cfg_write(OWN_PORT, EXP_CAP + 0x18, 2, BIT(10));
	CHECK_EQ(port_get(OWN_PORT, 0x1c, 2), 0x3030);
	CHECK_EQ(port_get(OWN_PORT, 0x20, 4), 0xfe30fe20);
	CHECK_EQ(port_get(OWN_PORT, 0x28, 4), 0x1);
	CHECK_EQ(port_get(OWN_PORT, 0x30, 4), 0x00010001);
	CHECK_EQ(port_get(OWN_PORT, 0x3e, 2), BIT(6));
	CHECK_EQ(port_get(OWN_PORT, EXP_CAP + 0x10, 2), BIT(4));
	CHECK_EQ(port_get(OWN_PORT, EXP_CAP + 0x18, 2), BIT(10));
	CHECK_EQ(fake_log_all[0], 0);
}

/* A function given to a guest after boot: its bridge is guarded from then on. */
TEST(a_function_given_away_later_guards_its_bridge)
{
	setup();
	pci_funcs[4].owner = "g1"; /* 03:00.0 */
	assign_cfg_write(OWN_PORT, 0x20, 4, 0xfe30fe20);
	CHECK_EQ(port_get(OWN_PORT, 0x20, 4), 0xfe10fe00);
	CHECK_EQ(logged("the service VM changed the memory window, above 03:00.0"), 1);
}

/* ATS, PRI and PASID: the enables cannot be set and read clear; the other bits are written. */
TEST(ats_pri_and_pasid_stay_off)
{
	setup();
	CHECK_EQ(get(ATS_AT + 6, 2), 0); /* what the firmware left on is off */
	assign_cfg_write(BDF, ATS_AT + 4, 4, (u32)(BIT(15) | 0x3) << 16); /* enable, STU 3 */
	CHECK_EQ(get(ATS_AT + 6, 2), 0x3);
	CHECK_EQ(assign_cfg_read(BDF, ATS_AT + 6, 2), 0x3);
	assign_cfg_write(BDF, ATS_AT + 7, 1, 0x80);
	CHECK_EQ(get(ATS_AT + 6, 2), 0x3);
	assign_cfg_write(BDF, PRI_AT + 4, 2, BIT(0) | BIT(1)); /* enable and reset */
	CHECK_EQ(get(PRI_AT + 4, 2), BIT(1));
	assign_cfg_write(BDF, PASID_AT + 6, 2, 0x7);
	CHECK_EQ(get(PASID_AT + 6, 2), 0);
	CHECK_EQ(logged("pci 00:03.0: the service VM changed the ATS enable, which Keel does not "
			"offer: write refused"),
		 1);
	CHECK_EQ(logged("the service VM changed the PRI enable"), 1);
	CHECK_EQ(logged("the service VM changed the PASID enables"), 1);
	/* a device that shows them set anyway reads clear */
	*(u16 *)(cfg + ATS_AT + 6) = BIT(15) | 0x3;
	*(u16 *)(cfg + PASID_AT + 6) = 0x7;
	CHECK_EQ(assign_cfg_read(BDF, ATS_AT + 4, 4), (u32)0x3 << 16);
	CHECK_EQ(assign_cfg_read(BDF, PASID_AT + 4, 4), 0);
	CHECK_EQ(assign_cfg_read(BDF, ATS_AT, 4), 0x0f | 1 << 16 | (u32)PRI_AT << 20);
}
