/* SPDX-License-Identifier: MIT */
/* The ABI of the Keel control device: how the service VM's tools talk to the hypervisor. */
#ifndef KEEL_KEELCTL_ABI_H
#define KEEL_KEELCTL_ABI_H

#include <stdint.h>

/*
 * The control device is a PCI function that only the service VM sees
 * (vendor KCTL_VENDOR, device KCTL_DEVICE; experimental IDs, not assigned by
 * the PCI-SIG). Root in the service VM maps its BARs through sysfs
 * (/sys/bus/pci/devices/<bdf>/resource0 and resource2): no kernel module.
 *
 * BAR0 (64-bit memory, KCTL_BAR0_SIZE bytes):
 *
 *   0x00000  registers (each access traps to Keel)
 *   0x01000  KCTL_CMD_SLOTS command slots, one 4 KiB page each (plain memory)
 *   0x10000  console rings, 32 KiB per VM id: out ring (28 KiB), then in ring (4 KiB)
 *   0x210000 I/O request slots, 4 KiB per VM id: one struct kctl_ioreq per vCPU
 *   0x250000 doorbells, 4 KiB per VM id: struct kctl_doorbells
 *
 * BAR2 (64-bit prefetchable memory, the guest RAM window): each guest's RAM
 * appears at the window offset its create command returned, so keel-dm and
 * keelctl read and write guest memory with no copy through Keel.
 *
 * A command: fill a slot (struct kctl_cmd), write its number to
 * KCTL_REG_DOORBELL. Keel executes it before that write completes; status
 * and results are in the slot afterwards. Processes share slots by
 * convention: keelctl uses slot 0 under flock(KCTL_LOCK_FILE).
 *
 * Interrupts: INTx (pin A), for the stock uio_pci_generic driver. Keel
 * asserts it while (IRQ_STATUS & IRQ_ENABLE) != 0 and the function's INTx is
 * not disabled; writing bits to IRQ_ACK clears them. Linux picks the GSI
 * from the firmware's routing table, which Keel cannot read, so user space
 * writes the IRQ it finds in /sys/bus/pci/devices/<bdf>/irq to IRQ_GSI once.
 *
 * Device models (keel-dm): a VM's PCI device numbers attached with
 * KCTL_OP_DM_ATTACH are keel-dm's. A guest access to their configuration
 * space, or to guest-physical memory that is neither RAM nor a device Keel
 * emulates, stops that vCPU and becomes a request in its I/O request slot
 * (state PENDING, KCTL_IRQ_IOREQ raised). keel-dm answers in the slot (data,
 * result, state DONE) and writes the VM id to KCTL_REG_IOREQ_DONE; the vCPU
 * then repeats the instruction, which completes from the answer. A slot that
 * is never answered leaves only that vCPU waiting (stop --force still works),
 * so a restarted keel-dm finds the requests it missed still PENDING.
 * Writes inside a doorbell range (KCTL_OP_DM_DOORBELL) do not wait: Keel
 * sets bit (offset / stride) of that device's word in the VM's doorbell page
 * and raises KCTL_IRQ_DOORBELL; keel-dm takes the bits with an atomic
 * exchange. Interrupts into the guest: KCTL_OP_DM_MSI. Ports keel-dm asked
 * for with KCTL_OP_DM_PORTS (an ISA device of a firmware VM: the PS/2
 * keyboard controller) are requests of type PIO, and that device's ISA
 * interrupt line is KCTL_OP_DM_IRQ's. By convention
 * keel-dm runs its commands in slot KCTL_DM_SLOT, keelctl in slot 0.
 *
 * A guest's RAM outlives every mapping of it: when a guest stops, dies or
 * is destroyed, Keel raises KCTL_IRQ_VM_STATE and keeps its RAM (LIST and
 * INFO say release_pending) until keel-dm lets go: keel-dm stops every
 * device of that VM, unmaps its window, and runs KCTL_OP_DM_RELEASE with the
 * VM's serial. Keel then takes the RAM out of the window and frees it. If keel-dm does not answer within KCTL_RELEASE_WAIT_MS, Keel points
 * the VM's window range at one scratch page (nothing keel-dm still does
 * there reaches memory that is not the VM's) and frees the RAM; the range
 * itself waits for keel-dm's release. Ids and names are reused; serials
 * (kctl_vm_info.serial) are not: state kept for a VM names its serial.
 *
 * All fields are little-endian. Every change to this file that changes a
 * layout bumps KCTL_ABI_VERSION; tools refuse a device of another version.
 */

#define KCTL_VENDOR 0x4b45  /* "KE" */
#define KCTL_DEVICE 0x4c43  /* "CL" */
#define KCTL_CLASS 0xff0000 /* "unassigned class": no stock driver claims it */
#define KCTL_ABI_VERSION 6
#define KCTL_MAGIC 0x4c45454b /* "KEEL" */
#define KCTL_LOCK_FILE "/run/keelctl.lock"

#define KCTL_BAR0_SIZE 0x400000
#define KCTL_REGS 0x0
#define KCTL_CMD_BASE 0x1000
#define KCTL_CMD_SLOTS 8
#define KCTL_CMD_SIZE 0x1000
#define KCTL_CONSOLE_BASE 0x10000
#define KCTL_CONSOLE_SIZE 0x8000 /* per VM: out ring, then in ring */
#define KCTL_MAX_VMS 64
#define KCTL_IOREQ_BASE 0x210000
#define KCTL_IOREQ_VM_SIZE 0x1000 /* per VM: KCTL_IOREQ_VCPUS slots */
#define KCTL_IOREQ_VCPUS 64
#define KCTL_DOORBELL_BASE 0x250000
#define KCTL_DOORBELL_VM_SIZE 0x1000
#define KCTL_DM_SLOT 1	/* keel-dm's command slot */
#define KCTL_DM_DEVS 32 /* PCI device numbers on a guest's bus 0 */

/* Registers (32-bit accesses). */
#define KCTL_REG_MAGIC 0x00	   /* RO: KCTL_MAGIC */
#define KCTL_REG_VERSION 0x04	   /* RO: KCTL_ABI_VERSION */
#define KCTL_REG_DOORBELL 0x08	   /* WO: execute the command in this slot */
#define KCTL_REG_IRQ_STATUS 0x0c   /* RO: KCTL_IRQ_* pending */
#define KCTL_REG_IRQ_ACK 0x10	   /* WO: clear these KCTL_IRQ_* bits */
#define KCTL_REG_IRQ_ENABLE 0x14   /* RW: which KCTL_IRQ_* raise INTx */
#define KCTL_REG_IRQ_GSI 0x18	   /* RW: the GSI Linux gave the function's INTx */
#define KCTL_REG_CONSOLE_KICK 0x1c /* WO: VM id whose in ring has new bytes */
#define KCTL_REG_WINDOW_SIZE 0x20  /* RO: BAR2 size in MiB */
#define KCTL_REG_IOREQ_DONE 0x24   /* WO: VM id whose I/O request slots keel-dm answered */

#define KCTL_RELEASE_WAIT_MS 3000 /* how long Keel waits for keel-dm's release */

#define KCTL_IRQ_CONSOLE (1u << 0)  /* a console out ring has new bytes */
#define KCTL_IRQ_VM_STATE (1u << 1) /* a VM started, stopped or died */
#define KCTL_IRQ_IOREQ (1u << 2)    /* an I/O request slot went PENDING */
#define KCTL_IRQ_DOORBELL (1u << 3) /* a doorbell bit was set */
#define KCTL_IRQ_ALL 0xfu

/*
 * Console rings: single-producer single-consumer byte queues; head and tail
 * count bytes ever produced and consumed. The out ring never blocks the
 * guest: when nobody reads, Keel overwrites the oldest bytes (a reader that
 * finds head - tail > its size skips to the newest), so attaching later shows
 * the latest output. The in ring waits for Keel to take bytes.
 */
#define KCTL_OUT_DATA (28 * 1024 - 8)
#define KCTL_IN_DATA (4 * 1024 - 8)
struct kctl_ring_hdr {
	unsigned int head;
	unsigned int tail;
};
#define KCTL_RING_OUT 0		 /* guest UART output: Keel produces */
#define KCTL_RING_IN (28 * 1024) /* keyboard input: Keel consumes */

enum kctl_op {
	KCTL_OP_NONE,
	/*
	 * name, args[0] memory bytes, args[1] vCPUs -> vm_id, args[2] window offset;
	 * flags KCTL_CREATE_FIRMWARE: the platform firmware expects (ABI 5);
	 * KCTL_CREATE_ON_CRASH_RESET: a triple fault resets the VM, else stops it (ABI 6)
	 */
	KCTL_OP_CREATE,
	/*
	 * name, args[0..1] kernel gpa/size, args[2..3] initrd gpa/size, text = cmdline,
	 * then after its NUL the initrd's command line (a multiboot kernel's module 0).
	 * flags KCTL_LOAD_FIRMWARE (a VM created with KCTL_CREATE_FIRMWARE): args[0..1]
	 * firmware code gpa/size, args[2..3] variable store gpa/size (size 0: none),
	 * mapped read-only below 4 GiB; the VM starts at the reset vector (ABI 5).
	 * With KCTL_LOAD_VARS_DM too, the variable store is a CFI flash keel-dm
	 * serves (keelctl create --vars): its writes, and its reads while it is in
	 * a command mode, are MMIO requests, answered with a KCTL_FLASH_* action
	 */
	KCTL_OP_LOAD,
	KCTL_OP_START, /* name */
	/* name; flags KCTL_STOP_FORCE: off at once (text: why, if not empty), else the ACPI power button */
	KCTL_OP_STOP,
	KCTL_OP_DESTROY, /* name: stop if running, free everything */
	/* -> args[0] count of struct kctl_vm_info in text, args[1] free, args[2] total bytes */
	KCTL_OP_LIST,
	KCTL_OP_INFO, /* name -> one struct kctl_vm_info in text */
	/* name, args[0] PCI device number (1..31): keel-dm serves it; before start */
	KCTL_OP_DM_ATTACH,
	/* name, args[0] device, args[1] gpa, args[2] length (0: none), args[3] stride */
	KCTL_OP_DM_DOORBELL,
	/* name, args[0] MSI address, args[1] MSI data: deliver it in the guest */
	KCTL_OP_DM_MSI,
	/* args[0] serial: keel-dm let go of that stopped VM's RAM (see above) */
	KCTL_OP_DM_RELEASE,
	/*
	 * name, args[0] first port, args[1] count (1..8), args[2] ISA IRQ (1..15, or
	 * KCTL_DM_NO_IRQ): keel-dm answers those ports (requests of type PIO) and
	 * drives that IRQ's I/O APIC pin; before start, for the VM's life
	 */
	KCTL_OP_DM_PORTS,
	/* name, args[0] ISA IRQ of KCTL_OP_DM_PORTS, args[1] its level (0 or 1; a rise is an edge) */
	KCTL_OP_DM_IRQ,
	/*
	 * name, text (the reason logged, or empty): reset a running VM in place,
	 * as its own reset register does (ABI 6): state RESETTING until every
	 * vCPU is back at power-on, then RUNNING; keel-dm's devices stay attached
	 * (the guest resets them)
	 */
	KCTL_OP_REBOOT,
	/*
	 * name -> text: the VM's exit counts since it was made, one "COUNT LABEL" line each
	 * (labels "exit REASON", "port DEVICE", "mmio DEVICE", "keel-dm ...", and for the
	 * service VM "control read|write REGISTER", "control command OP"), counts of 0 left
	 * out; args[0] lines, args[1] 1 if more did not fit
	 */
	KCTL_OP_EXITS,
	KCTL_OP_COUNT
};

#define KCTL_STOP_FORCE 1u
#define KCTL_CREATE_FIRMWARE 1u
#define KCTL_CREATE_ON_CRASH_RESET 2u
#define KCTL_LOAD_FIRMWARE 1u
#define KCTL_LOAD_VARS_DM 2u

/*
 * DESTROYING: being taken apart after KCTL_OP_DESTROY; INFO finds it until its memory is back.
 * RESETTING (ABI 6): between a reset and its restart, a moment; its RAM stays where it is.
 */
enum kctl_vm_state {
	KCTL_VM_CREATED,
	KCTL_VM_RUNNING,
	KCTL_VM_STOPPED,
	KCTL_VM_DEAD,
	KCTL_VM_DESTROYING,
	KCTL_VM_RESETTING
};

/* One vCPU's forwarded access (see "Device models" above). */
enum kctl_ioreq_state { KCTL_IOREQ_IDLE, KCTL_IOREQ_PENDING, KCTL_IOREQ_DONE };
enum kctl_ioreq_type { KCTL_IOREQ_MMIO, KCTL_IOREQ_CFG, KCTL_IOREQ_PIO };
#define KCTL_DM_NO_IRQ 0xffu

struct kctl_ioreq {
	unsigned int state; /* enum kctl_ioreq_state: Keel sets PENDING, keel-dm DONE */
	unsigned int type;  /* enum kctl_ioreq_type */
	unsigned int size;  /* 1, 2, 4 (or 8 for MMIO) bytes */
	unsigned int write; /* 1: a write of data */
	/* MMIO: guest-physical; CFG: device << 15 | function << 12 | register; PIO: port */
	unsigned long long addr;
	unsigned long long data; /* write: the value; read: keel-dm's answer */
	/* keel-dm: 0, or < 0 when nothing answers there: the VM is stopped */
	int result;
	unsigned int seq; /* Keel: counts this vCPU's requests */
	/*
	 * keel-dm, answering an access to a flash variable store (ABI 5): what
	 * Keel does to its copy of the store, which the guest reads as memory
	 */
	unsigned int flash;
	unsigned char pad[20];
};

#define KCTL_FLASH_PROGRAM 1u /* the written byte goes into the store at addr */
#define KCTL_FLASH_ERASE 2u   /* the 4 KiB block holding addr is all 0xFF now */
#define KCTL_FLASH_ARRAY 4u   /* reads are the array again: map the store */
#define KCTL_FLASH_COMMAND 8u /* reads are the flash's status: unmap it, reads trap */

/* A VM's doorbell page: per PCI device number, one bit per doorbell (a virtio queue). */
struct kctl_doorbells {
	unsigned int pending[KCTL_DM_DEVS];
};

#define KCTL_UNKNOWN_LISTED 4

struct kctl_vm_info {
	char name[16];
	unsigned int id;
	unsigned int state; /* enum kctl_vm_state */
	unsigned int vcpus;
	unsigned int service; /* 1: the service VM itself */
	unsigned long long memory;
	unsigned long long uptime_ms;
	unsigned long long exits;
	unsigned long long window_offset;
	unsigned long long serial;    /* counts VMs ever created: never reused */
	unsigned int release_pending; /* 1: stopped, Keel waits for keel-dm to let its RAM go */
	char why[84];
	/* what the guest tried that Keel has not (ABI 4): MSRs it does not know (a #GP each) */
	unsigned long long unknown_msr_reads;
	unsigned long long unknown_msr_writes;
	unsigned long long unknown_ports; /* port accesses no device answered (all-ones, dropped) */
	unsigned int unknown_msr[KCTL_UNKNOWN_LISTED]; /* the first distinct ones, in order */
	unsigned short unknown_port[KCTL_UNKNOWN_LISTED];
	unsigned int unknown_msrs_listed; /* how many of unknown_msr and unknown_port hold one */
	unsigned int unknown_ports_listed;
	unsigned int flags;  /* KCTL_INFO_* (ABI 6) */
	unsigned int resets; /* resets since it was created (ABI 6) */
};

#define KCTL_INFO_ON_CRASH_RESET 1u /* created with KCTL_CREATE_ON_CRASH_RESET */

#define KCTL_NAME_MAX 16
#define KCTL_MSG_MAX 256
#define KCTL_TEXT_MAX (KCTL_CMD_SIZE - 384)

struct kctl_cmd {
	unsigned int op;    /* enum kctl_op */
	int status;	    /* out: 0 or a negative errno */
	unsigned int vm_id; /* out */
	unsigned int flags;
	unsigned long long args[8];
	char name[KCTL_NAME_MAX];
	char msg[KCTL_MSG_MAX];	  /* out: why it failed, in words for the operator */
	char text[KCTL_TEXT_MAX]; /* in: command line; out: records */
};

_Static_assert(sizeof(struct kctl_cmd) <= KCTL_CMD_SIZE, "a command fits its slot");
_Static_assert(sizeof(struct kctl_vm_info) == 224, "ABI record size");
_Static_assert(sizeof(struct kctl_ioreq) == 64, "ABI record size");
_Static_assert(KCTL_IOREQ_VCPUS * sizeof(struct kctl_ioreq) == KCTL_IOREQ_VM_SIZE,
	       "slots fit a page");
_Static_assert(KCTL_CONSOLE_BASE + KCTL_MAX_VMS * KCTL_CONSOLE_SIZE == KCTL_IOREQ_BASE, "layout");
_Static_assert(KCTL_IOREQ_BASE + KCTL_MAX_VMS * KCTL_IOREQ_VM_SIZE == KCTL_DOORBELL_BASE, "layout");
_Static_assert(KCTL_DOORBELL_BASE + KCTL_MAX_VMS * KCTL_DOORBELL_VM_SIZE <= KCTL_BAR0_SIZE,
	       "layout");

#endif
