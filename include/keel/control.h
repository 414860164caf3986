/* SPDX-License-Identifier: MIT */
/* The control device (see keelctl_abi.h): the service VM's way to manage guests. */
#ifndef KEEL_CONTROL_H
#define KEEL_CONTROL_H

#include <uapi/keel/keelctl_abi.h>
#include <lib/types.h>

struct vm;
struct vuart;

/* Puts the function on the service VM's PCI bus 0 in a free slot. */
int control_init(struct vm *service, u64 window_size);
/* Config space of the function, for the service VM's config traps; false if bdf is not it. */
bool control_cfg_read(u16 bdf, u32 off, u32 size, u32 *val);
bool control_cfg_write(u16 bdf, u32 off, u32 size, u32 val);
/* A guest's console output (a vuart sink; ctx is the VM). */
void control_console_out(struct vuart *u, void *ctx, u8 byte);
/* Moves typed bytes from the console in rings to the guests' UARTs. Boot CPU. */
void control_console_poll(void);
void control_raise(u32 irq);
/* The guest RAM window: map a guest's RAM at a new offset (it goes when the VM is reaped). */
int control_window_map(struct vm *vm, u64 *offset);
/* A stopped guest's RAM waits for keel-dm to let it go (KCTL_OP_DM_RELEASE). */
bool control_release_pending(const struct vm *vm);
/* keel-dm let go of vm: its window range goes; -EINVAL if nothing waited. */
int control_release(struct vm *vm);
u64 control_window_offset(const struct vm *vm);
/* A new VM's console rings: empty, Keel's cursors with them. */
void control_console_reset(u32 vm_id);
/* keel-dm's shared pages: a VM's I/O request slots and doorbell bits. */
struct kctl_ioreq *control_ioreq(u32 vm_id, u32 vcpu);
struct kctl_doorbells *control_doorbells(u32 vm_id);

/* vmm/control/control_cmd.c */
void control_execute(struct kctl_cmd *c);
u64 control_op_count(u32 op); /* commands of that op run so far */

/* Accesses to the control device's registers, by offset / 4, reads or writes, so far. */
#define CONTROL_REGS (KCTL_REG_IOREQ_DONE / 4 + 1)
u64 control_reg_hits(bool write, u32 reg);
/* vmm/control/control_exits.c: KCTL_OP_EXITS for vm. */
int control_cmd_exits(struct kctl_cmd *c, struct vm *vm);

#endif
