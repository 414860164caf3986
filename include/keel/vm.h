/* SPDX-License-Identifier: MIT */
/* Virtual machines: guest memory, emulated devices, life cycle. */
#ifndef KEEL_VM_H
#define KEEL_VM_H

#include <keel/pagetable.h>
#include <keel/spinlock.h>
#include <keel/vcpu.h>

#define VM_MAX_VCPUS 64
#define VM_NAME_MAX 16
#define VM_MAX_CLEANUPS 16
#define VM_MAX_WITHHELD 4 /* RAM pages out of the map at once (the test device's flushes) */

/* Device callbacks return 0, or a negative errno to stop the VM. */
struct io_handler {
	u16 base, count;
	int (*read)(struct vcpu *v, void *opaque, u16 port, u8 size, u32 *val);
	int (*write)(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val);
	void *opaque;
	const char *name; /* in exit counts (keelctl exits); NULL: its ports */
};

struct mmio_handler {
	gpa_t base;
	u64 size;
	int (*read)(struct vcpu *v, void *opaque, u64 offset, u8 size, u64 *val);
	int (*write)(struct vcpu *v, void *opaque, u64 offset, u8 size, u64 val);
	void *opaque;
	const char *name; /* in exit counts (keelctl exits); NULL: its address */
};

/* RESETTING: its vCPUs leave their CPUs, then the reaper puts it back to power-on and RUNNING. */
enum vm_state { VM_CREATED, VM_RUNNING, VM_STOPPED, VM_DEAD, VM_RESETTING };

struct vm {
	u32 id;
	u64 serial; /* counts VMs ever created: an id and a name are reused, this is not */
	char name[VM_NAME_MAX];
	volatile enum vm_state state;
	char why[192]; /* why it stopped */
	struct spinlock lock;
	u32 refs;     /* vm_get() holders: the reaper leaves the VM alone meanwhile */
	bool reaping; /* being freed: vm_get() no longer hands it out */
	/*
	 * The guest-physical map (NPT or EPT), changed only in vmm/vm_gpa.c under
	 * gpa_lock. flush_gen counts removals: a vCPU entering with an older count
	 * flushes its cached translations first (the backends look at it).
	 */
	struct spinlock gpa_lock;
	struct page_table gpa;
	volatile u32 flush_gen;
	/* RAM pages taken out of the map until their next access (vm_withhold_page) */
	struct vm_withheld {
		gpa_t gpa; /* 0 with hpa 0: a free slot */
		hpa_t hpa;
		u32 perms;
	} withheld[VM_MAX_WITHHELD];
	bool absent_mmio; /* unmapped non-RAM reads as all-ones (the service VM), else kills */
	bool firmware;	  /* runs firmware (guest.h's firmware flavor): absent MMIO as on a PC */
	u64 ram_size;	  /* bytes of pool RAM the VM owns */
	/* its RAM at its guest-physical addresses, for devices given to it (with an IOMMU) */
	struct iommu_domain *dma;
	u32 nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	void *arch; /* backend: I/O and MSR permission maps, ASID/VPID */
	u32 nr_io, nr_mmio;
	u32 io_last; /* the handler of the latest port access: the next is likely the same */
	struct io_handler io[VM_MAX_IO];
	struct mmio_handler mmio[VM_MAX_MMIO];
	struct vuart *uart;
	struct vioapic *ioapic;
	struct vpci_bus *pci; /* a guest's virtual PCI bus (not the service VM's) */
	u32 nr_cleanups;
	struct {
		void (*fn)(void *opaque);
		void *opaque;
	} cleanups[VM_MAX_CLEANUPS]; /* device teardown, run when the VM's memory is freed */
	u64 start_ns;
	bool resources_freed;
	u64 exits_retired;    /* exits of vCPUs already freed (a dead VM keeps its count) */
	bool destroy_pending; /* free the struct too once its resources are gone */
	bool loaded;	      /* a kernel is in place: it can start */
	bool on_crash_reset;  /* a triple fault resets the VM (else it stops it) */
	/* resets: how many; when the next may run (a reset loop is slowed); the log's rate limit */
	u64 resets, reset_due_ns, reset_log_ns, resets_unlogged;
	/*
	 * the platform's part of a reset (guest.c), after the vCPUs': its devices, a
	 * direct-kernel guest's RAM; -EAGAIN: call again in the next round; err 160 bytes
	 */
	int (*platform_reset)(struct vm *vm, char *err);
	bool reset_vcpus_done;	 /* this reset's vcpu_power_on() calls are done */
	struct guest_boot *boot; /* what a direct-kernel guest was loaded with, for a reset */
	/* what the guest tried that Keel has not (keelctl info): changed with atomics */
	struct vm_unknown {
		u64 msr_reads, msr_writes; /* RDMSR/WRMSR of MSRs Keel does not know: #GP */
		u64 ports;		   /* port accesses no device answers */
		u32 msrs[4];		   /* the first distinct MSRs, each + 1 (0: none yet) */
		u32 port_list[4];	   /* the first distinct ports, each + 1 */
	} unknown;
};

/* Keeps val (+ 1) in the first free of n slots unless one holds it already. */
static inline void vm_note_first(u32 *slots, u32 n, u32 val)
{
	for (u32 i = 0; i < n; i++) {
		u32 seen = 0;

		if (__atomic_compare_exchange_n(&slots[i], &seen, val + 1, false, __ATOMIC_RELAXED,
						__ATOMIC_RELAXED) ||
		    seen == val + 1)
			return;
	}
}

#define MAX_VMS 64 /* the control device has room for as many (KCTL_MAX_VMS) */
extern struct vm *vms[MAX_VMS];
extern u32 nr_vms_created;

/* Creates a VM with nr_vcpus vCPUs pinned from first_cpu on; NULL with a log line on failure. */
struct vm *vm_create(const char *name, u32 nr_vcpus, u32 first_cpu);
/*
 * The guest-physical map (vmm/vm_gpa.c). Every change goes through these,
 * under the VM's gpa_lock; a change that removes or replaces a translation
 * returns only when no vCPU of the VM can still use it (vm_flush_wait),
 * and the table pages it emptied are freed after that.
 */
/* Adds size bytes of pool RAM at gpa (2 MiB pages where possible); before the VM runs. */
int vm_add_ram(struct vm *vm, gpa_t gpa, u64 size);
/*
 * Teardown: the VM's DMA domain goes first (its invalidation waited for),
 * then the map with the RAM; RAM a device may still reach (the invalidation
 * failed) is kept out of the pool.
 */
void vm_release_ram(struct vm *vm);
int vm_map(struct vm *vm, gpa_t gpa, hpa_t hpa, u64 size, u32 perms);
/* Never RAM the VM owns: that leaves only with the whole VM. */
int vm_unmap(struct vm *vm, gpa_t gpa, u64 size);
/*
 * Takes the RAM page at gpa out of the map, keeping its contents, until the
 * next access to it by the guest (exit_npf) or by Keel for it (vm_read...):
 * as QEMU's pc-testdev "flush page" does, so tests see the exits a page the
 * hypervisor had to bring back causes. -ENOSPC with VM_MAX_WITHHELD out.
 */
int vm_withhold_page(struct vm *vm, gpa_t gpa);
/* Maps a withheld page back: false if gpa is not one. */
bool vm_restore_page(struct vm *vm, gpa_t gpa);
/* Every withheld page goes back (teardown: they leave with the map). */
void vm_restore_pages(struct vm *vm);
/* Makes every vCPU of vm drop cached guest-physical translations before it runs again. */
void vm_flush_wait(struct vm *vm);
/* Calls fn for each run of the VM's own RAM, in address order, until fn returns nonzero. */
int vm_walk_ram(struct vm *vm, int (*fn)(void *ctx, gpa_t gpa, hpa_t hpa, u64 size), void *ctx);
/* The translation of gpa: false if unmapped. */
bool vm_lookup(struct vm *vm, gpa_t gpa, hpa_t *hpa, u32 *perms);
/* Bounds-checked guest-physical access; -EFAULT if any byte is not guest RAM. */
int vm_read(struct vm *vm, gpa_t gpa, void *buf, size_t len);
int vm_write(struct vm *vm, gpa_t gpa, const void *buf, size_t len);
int vm_zero(struct vm *vm, gpa_t gpa, size_t len);
/*
 * An aligned 4- or 8-byte entry of the guest's page tables, read with one
 * load, or replaced by new_val if it still holds old (locked compare-exchange:
 * 0, or -EAGAIN); -EFAULT if not guest RAM (or, for the exchange, read-only).
 */
int vm_read_entry(struct vm *vm, gpa_t gpa, unsigned int size, u64 *val);
int vm_cmpxchg_entry(struct vm *vm, gpa_t gpa, unsigned int size, u64 old, u64 new_val);
/*
 * For devices that reach guest memory on the guest's say-so (fw_cfg DMA): only
 * the VM's own RAM, never a device mapped into it; all of [gpa, gpa + len) or
 * nothing (-EFAULT). vm_write_ram with buf NULL writes zeroes.
 */
int vm_read_ram(struct vm *vm, gpa_t gpa, void *buf, size_t len);
int vm_write_ram(struct vm *vm, gpa_t gpa, const void *buf, size_t len);
bool vm_is_ram(struct vm *vm, gpa_t gpa);
int vm_register_io(struct vm *vm, const struct io_handler *h);
void vm_unregister_io(struct vm *vm, u16 base,
		      int (*write)(struct vcpu *v, void *opaque, u16 port, u8 size, u32 val));
/* Returns the registered handler (its base and size may be moved later), or NULL. */
struct mmio_handler *vm_register_mmio(struct vm *vm, const struct mmio_handler *h);
/* fn(opaque) runs when the VM is torn down; -ENOSPC (and fn runs now) if the table is full. */
int vm_add_cleanup(struct vm *vm, void (*fn)(void *opaque), void *opaque);
void vm_start(struct vm *vm);
/* The guest misbehaved: stop this VM only, with a message saying why. */
void vm_fail(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/* The guest asked to stop (power-off). */
void vm_stop(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/*
 * A platform reset (the guest's reset register, a triple fault with
 * on_crash_reset, keelctl reboot): a running VM goes to RESETTING and its
 * vCPUs leave their CPUs; vm_reap() then puts every vCPU back in its
 * power-on state, runs vm->platform_reset and starts the VM again.
 */
void vm_reset(struct vm *vm, const char *fmt, ...) __printf(2, 3);
/*
 * What else must let go of a stopped VM before the reaper frees it (the control
 * device: its guest RAM window): RAM may go once nothing maps it any more, the
 * VM itself (its id, name and serial) once nothing refers to it. Both are asked
 * on each reaper round until they agree.
 */
struct vm_teardown_ops {
	bool (*ram_may_go)(struct vm *vm);
	bool (*vm_may_go)(struct vm *vm);
};
void vm_set_teardown_ops(const struct vm_teardown_ops *ops);
/* Frees a stopped VM's memory once none of its vCPUs is on a CPU, and destroyed VMs. Boot CPU only. */
void vm_reap(void);
/* Held while a control command creates, changes or looks at VMs; vm_reap() skips a round meanwhile. */
void vm_admin_lock(void);
bool vm_admin_trylock(void);
void vm_admin_unlock(void);
/* Stops the VM if it runs and frees all of it; asynchronous: vm_find() no longer sees it. */
void vm_destroy(struct vm *vm);
struct vm *vm_find(const char *name);
/* The VM in slot id, kept from the reaper until vm_put(); NULL if none or being freed. */
struct vm *vm_get(u32 id);
void vm_put(struct vm *vm);
bool vm_all_stopped(void);
const char *vm_state_name(enum vm_state s);
/* Adds the VM commands to the monitor. */
void vm_monitor_init(void);

#endif
