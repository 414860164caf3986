// SPDX-License-Identifier: MIT
/*
 * Host tests of the guest RAM window (vmm/control/control_dev.c) over the real
 * guest-physical map code (vmm/vm_gpa.c, core/pagetable.c): what the window
 * maps, how a change to the service VM's map completes, and how a stopped
 * guest's RAM leaves the window.
 */
#include <arch/x86/tsc.h>
#include <keel/control.h>
#include <keel/dm.h>
#include <keel/iommu.h>
#include <keel/page_alloc.h>
#include <keel/pci.h>
#include <keel/sched.h>
#include <keel/service_vm.h>
#include <keel/vioapic.h>
#include <keel/vm.h>
#include <keel/vuart.h>
#include "test.h"
#include <stdlib.h>

extern struct pt_format npt_format;

/* control_init's pages (the shared BAR0 memory, the scratch chunk) live as long as Keel does. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* --- the service VM (two vCPUs, in guest mode unless kicked) and a guest --- */
static struct vm svc, guest;
struct vm *vms[KCTL_MAX_VMS];
u32 nr_vms_created;
static struct vcpu svc_vcpu[2];
static u64 now_ns;
static const struct vm_teardown_ops *teardown;
static struct mmio_handler regs;
static u32 kicks, frees_unsafe, frees, kicked_gen[2];
static bool watching; /* page frees are checked */

u64 time_ns(void)
{
	return now_ns;
}

/* A vCPU kicked out of guest mode: it leaves at once, as the IPI makes it. */
void sched_kick(struct vcpu *v)
{
	kicks++;
	kicked_gen[v - svc_vcpu] = v->vm->flush_gen;
	v->in_guest = false;
	v->exits_total++;
}

static bool locked(const struct spinlock *l)
{
	return l->next != l->owner;
}

/*
 * A page leaving a table goes back to the pool: by then every vCPU of that VM
 * that was in guest mode must have been kicked since the latest removal (so
 * none still walks it), and the change must still hold the map's lock.
 */
static void check_free(void)
{
	if (!watching)
		return;
	for (u32 i = 0; i < 2; i++) /* still in guest mode, or kicked before the latest bump */
		frees_unsafe += svc_vcpu[i].in_guest || kicked_gen[i] != svc.flush_gen;
	frees_unsafe += !locked(&svc.gpa_lock);
}

void *page_alloc_zeroed(u64 pages)
{
	void *p = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);

	return p ? memset(p, 0, pages * PAGE_SIZE) : NULL;
}

void page_free(void *p, u64 pages)
{
	(void)pages;
	frees++;
	check_free();
	free(p);
}

hpa_t page_alloc_range(u64 pages, u64 align, hpa_t below)
{
	(void)below;
	return (hpa_t)(uintptr_t)aligned_alloc(align * PAGE_SIZE, pages * PAGE_SIZE);
}

int page_free_range(hpa_t base, u64 pages)
{
	(void)pages;
	free((void *)(uintptr_t)base);
	return 0;
}

/* No IOMMU here: vm_gpa.c's DMA domain calls are never made (tests/unit/iommu/ has them). */
bool iommu_active(void)
{
	return false;
}

struct iommu_domain *iommu_domain_create(const char *owner)
{
	(void)owner;
	return NULL;
}

int iommu_map(struct iommu_domain *d, u64 iova, hpa_t pa, u64 size, u32 perms)
{
	(void)d, (void)iova, (void)pa, (void)size, (void)perms;
	return -ENODEV;
}

int iommu_domain_destroy(struct iommu_domain *d)
{
	(void)d;
	return -ENODEV;
}

struct pci_func *pci_find(u16 bdf)
{
	(void)bdf;
	return NULL;
}

struct mmio_handler *vm_register_mmio(struct vm *vm, const struct mmio_handler *h)
{
	(void)vm;
	regs = *h;
	return &regs;
}

void vm_set_teardown_ops(const struct vm_teardown_ops *ops)
{
	teardown = ops;
}

struct vm *vm_get(u32 id)
{
	return id == guest.id ? &guest : NULL;
}

void vm_put(struct vm *vm)
{
	(void)vm;
}

bool vm_admin_trylock(void)
{
	return true;
}

void vm_admin_unlock(void)
{
}

void vioapic_set_pin_src(struct vioapic *io, u32 pin, u32 src, bool level)
{
	(void)io, (void)pin, (void)src, (void)level;
}

bool vuart_receive(struct vuart *u, u8 byte)
{
	(void)u, (void)byte;
	return true;
}

struct vm *vuart_vm(struct vuart *u)
{
	(void)u;
	return NULL;
}

void control_execute(struct kctl_cmd *c)
{
	(void)c;
}

void dm_answered(u32 vm_id)
{
	(void)vm_id;
}

bool service_map_place_ok(u64 base, u64 size, bool window, char *why, size_t len)
{
	(void)base, (void)size, (void)window, (void)why, (void)len;
	return true;
}

void service_map_claim(u64 base, u64 size)
{
	(void)base, (void)size;
}

void service_map_unclaim(u64 base, u64 size)
{
	(void)base, (void)size;
}

#define WINDOW (16 * GiB)
#define BAR2 0x8000000000ULL
#define GUEST_RAM 0x40000000ULL /* where the guest's RAM "is" in host memory */
#define CTL_BDF PCI_BDF(0, 31, 0)

static void setup(void)
{
	memset(&svc, 0, sizeof(svc));
	memset(&guest, 0, sizeof(guest));
	memset(svc_vcpu, 0, sizeof(svc_vcpu));
	CHECK_EQ(pt_init(&svc.gpa, &npt_format, NULL), 0);
	CHECK_EQ(pt_init(&guest.gpa, &npt_format, NULL), 0);
	svc.nr_vcpus = 2;
	for (u32 i = 0; i < 2; i++) {
		svc.vcpus[i] = &svc_vcpu[i];
		svc_vcpu[i].vm = &svc;
		svc_vcpu[i].in_guest = true;
	}
	guest.id = 3;
	guest.serial = 42;
	strcpy(guest.name, "g");
	CHECK_EQ(control_init(&svc, WINDOW), 0);
	/* the service VM places BAR2 (64-bit) and turns memory decoding on */
	CHECK(control_cfg_write(CTL_BDF, 0x18, 4, 0));
	CHECK(control_cfg_write(CTL_BDF, 0x1c, 4, BAR2 >> 32));
	CHECK(control_cfg_write(CTL_BDF, 0x04, 2, PCI_CMD_MEMORY));
	/* the guest: 8 MiB of its own RAM, a device page that is not RAM, RAM past its span */
	CHECK_EQ(vm_map(&guest, 0, GUEST_RAM, 8 * MiB, PT_RWX | PT_OWNED), 0);
	CHECK_EQ(vm_map(&guest, 0xc0000000, 0xfe000000, PAGE_SIZE, PT_RWX | PT_UC), 0);
	CHECK_EQ(vm_map(&guest, 64 * MiB, GUEST_RAM + 64 * MiB, 2 * MiB, PT_RWX | PT_OWNED), 0);
	guest.ram_size = 8 * MiB;
}

static bool svc_maps(u64 gpa, hpa_t *hpa)
{
	return vm_lookup(&svc, gpa, hpa, NULL);
}

/* Only the guest's own RAM, only within its span, reaches the service VM. */
TEST(window_maps_only_the_guests_ram_in_its_span)
{
	u64 off = ~0ULL;
	hpa_t pa;

	setup();
	CHECK_EQ(control_window_map(&guest, &off), 0);
	CHECK(off < WINDOW);
	CHECK(svc_maps(BAR2 + off + 0x1234, &pa) && pa == GUEST_RAM + 0x1234);
	CHECK(svc_maps(BAR2 + off + 8 * MiB - 1, &pa) && pa == GUEST_RAM + 8 * MiB - 1);
	CHECK(!svc_maps(BAR2 + off + 0xc0000000, &pa)); /* a device page of the guest */
	CHECK(!svc_maps(BAR2 + off + 64 * MiB, &pa));	/* RAM beyond its span */
}

/*
 * Every change that takes translations out of the service VM's map holds its
 * lock and kicks every vCPU out of guest mode before a table page is freed
 * (the window going away frees the tables it used).
 */
TEST(unmaps_flush_every_vcpu_before_tables_are_freed)
{
	u64 off;
	u32 gen;

	setup();
	CHECK_EQ(control_window_map(&guest, &off), 0);
	for (u32 i = 0; i < 2; i++)
		svc_vcpu[i].in_guest = true;
	gen = svc.flush_gen;
	frees = frees_unsafe = 0;
	CHECK(teardown && !teardown->ram_may_go(&guest)); /* keel-dm is told, and waited for */
	watching = true;
	CHECK_EQ(control_release(&guest), 0);
	watching = false;
	CHECK(svc.flush_gen != gen);
	CHECK(frees > 0);
	CHECK_EQ(frees_unsafe, 0);
	CHECK(!svc_vcpu[0].in_guest && !svc_vcpu[1].in_guest);
}

/*
 * A stopped guest's RAM stays until keel-dm let go:
 * VM_STATE tells it, the RAM may go once it released, and the VM's id and
 * serial only when nothing of the window is left.
 */
TEST(stopped_guest_ram_waits_for_keel_dm)
{
	u64 off;
	hpa_t pa;

	setup();
	CHECK_EQ(control_window_map(&guest, &off), 0);
	CHECK(!control_release_pending(&guest));
	CHECK(!teardown->ram_may_go(&guest));
	CHECK(control_release_pending(&guest));
	CHECK(svc_maps(BAR2 + off, &pa) && pa == GUEST_RAM);
	now_ns += (KCTL_RELEASE_WAIT_MS - 1) * 1000000ULL;
	CHECK(!teardown->ram_may_go(&guest));
	CHECK(!teardown->vm_may_go(&guest));
	CHECK_EQ(control_release(&guest), 0);
	CHECK(!svc_maps(BAR2 + off, &pa));
	CHECK(teardown->ram_may_go(&guest));
	CHECK(teardown->vm_may_go(&guest));
	CHECK(!control_release_pending(&guest));
	CHECK_EQ(control_release(&guest), -EINVAL); /* nothing waits any more */
}

/* keel-dm never answers: after the wait the window shows scratch memory, then the RAM may go. */
TEST(late_keel_dm_meets_a_scratch_page)
{
	u64 off;
	hpa_t pa, pb;

	setup();
	CHECK_EQ(control_window_map(&guest, &off), 0);
	CHECK(!teardown->ram_may_go(&guest));
	now_ns += KCTL_RELEASE_WAIT_MS * 1000000ULL;
	CHECK(teardown->ram_may_go(&guest));
	CHECK(svc_maps(BAR2 + off + 0x1000, &pa) && svc_maps(BAR2 + off + 4 * MiB + 0x1000, &pb));
	CHECK(pa == pb && (pa & ~(2 * MiB - 1)) != GUEST_RAM); /* one scratch chunk, not its RAM */
	CHECK(!teardown->vm_may_go(&guest));		       /* the range waits for keel-dm */
	CHECK(control_release_pending(&guest));
	CHECK_EQ(control_release(&guest), 0); /* keel-dm came back */
	CHECK(!svc_maps(BAR2 + off + 0x1000, &pa));
	CHECK(teardown->vm_may_go(&guest));
}

/*
 * vm_read_ram/vm_write_ram, what fw_cfg's DMA uses (issue 18 item 2): the guest's own RAM, all
 * of the range or nothing; a device page mapped into the guest is never touched, where
 * vm_write would write up to it.
 */
TEST(ram_only_copies_reach_nothing_but_the_guests_ram)
{
	u8 *ram = aligned_alloc(PAGE_SIZE, 2 * PAGE_SIZE),
	   *dev = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	u8 buf[32];
	struct vm g = { 0 };

	memset(ram, 0x11, 2 * PAGE_SIZE);
	memset(dev, 0x22, PAGE_SIZE);
	CHECK_EQ(pt_init(&g.gpa, &npt_format, NULL), 0);
	CHECK_EQ(vm_map(&g, 0x100000, (hpa_t)(uintptr_t)ram, 2 * PAGE_SIZE, PT_RWX | PT_OWNED), 0);
	CHECK_EQ(vm_map(&g, 0x102000, (hpa_t)(uintptr_t)dev, PAGE_SIZE, PT_RWX | PT_UC), 0);
	memset(buf, 0x33, sizeof(buf));
	CHECK_EQ(vm_write_ram(&g, 0x101ff0, buf, 16), 0); /* within RAM, across its pages */
	CHECK_EQ(ram[PAGE_SIZE * 2 - 1], 0x33);
	CHECK_EQ(vm_write_ram(&g, 0x101ff8, buf, 16), -EFAULT); /* into the device page */
	CHECK_EQ(ram[PAGE_SIZE * 2 - 8], 0x33);			/* unchanged: it was 0x33 */
	CHECK_EQ(vm_write_ram(&g, 0x101fe0, NULL, 0x40), -EFAULT);
	CHECK_EQ(ram[PAGE_SIZE * 2 - 0x20], 0x11); /* nothing written, not even the RAM part */
	CHECK_EQ(vm_read_ram(&g, 0x102000, buf, 4), -EFAULT);
	CHECK_EQ(vm_write_ram(&g, 0x102000, buf, 4), -EFAULT);
	CHECK_EQ(vm_write_ram(&g, ~0ULL - 8, buf, 16), -EFAULT); /* wraps */
	CHECK_EQ(vm_read_ram(&g, 0x101000, buf, 8), 0);
	CHECK_EQ(buf[0], 0x11);
	for (u32 i = 0; i < PAGE_SIZE; i++)
		if (dev[i] != 0x22) {
			CHECK(!"the device page changed");
			break;
		}
	/* the plain copy writes into the mapped device page: why DMA must not use it */
	CHECK_EQ(vm_write(&g, 0x101ff8, buf, 16), 0);
	CHECK_EQ(dev[0], 0x33);
	free(ram);
	free(dev);
}
