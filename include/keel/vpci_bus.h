/* SPDX-License-Identifier: MIT */
/* A guest's virtual PCI bus: a host bridge and emulated functions behind ECAM and 0xCF8/0xCFC. */
#ifndef KEEL_VPCI_BUS_H
#define KEEL_VPCI_BUS_H

#include <lib/types.h>

struct vm;
struct vcpu;

#define VPCI_MAX_FUNCS 32
#define VPCI_ECAM_BUS_SIZE (1 * MiB) /* bus 0's ECAM */

/* One emulated function (device d, function 0 on bus 0). */
struct vpci_func {
	u8 dev;
	u32 (*cfg_read)(struct vpci_func *f, u32 off, u32 size);
	void (*cfg_write)(struct vpci_func *f, u32 off, u32 size, u32 val);
	void *opaque;
};

/*
 * Creates the bus with its host bridge at 00:00.0 (a Q35's if q35), ECAM of
 * ecam_size bytes at ecam_base (bus 0 in its first MiB).
 */
int vpci_bus_create(struct vm *vm, u64 ecam_base, u64 ecam_size, bool q35);
/* The firmware flavor's ICH9 LPC bridge at 00:1f.0 (vmm/pci/vlpc.c). */
int vlpc_attach(struct vm *vm);
int vpci_bus_add(struct vm *vm, struct vpci_func *f);
/* The first free device number, or -1. */
int vpci_bus_free_slot(struct vm *vm);
/* A Keel function sits at 00:dev.0 (or there is no bus). */
bool vpci_bus_used(struct vm *vm, u32 dev);

#endif
