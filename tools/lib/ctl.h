/* SPDX-License-Identifier: MIT */
/* keelctl's access to the control device: discovery, mapping, commands, the guest RAM window. */
#ifndef KEELCTL_CTL_H
#define KEELCTL_CTL_H

#include <uapi/keel/keelctl_abi.h>
#include <stddef.h>
#include <stdint.h>

#define KEEL_DM_SOCKET "/run/keel-dm.sock" /* keel-dm's requests (tools/keel-dm/server.c) */

struct ctl {
	char dev[320]; /* /sys/bus/pci/devices/<bdf> */
	volatile uint8_t *bar0;
	int uio_fd;	  /* -1: no uio_pci_generic, poll instead */
	int cfg_fd;	  /* the function's config space (sysfs), to re-enable INTx */
	uint16_t command; /* its command register with INTx enabled, once read (0: not yet) */
	uint64_t window_size;
	/* tests: a fake Keel runs commands; NULL: the device */
	void (*keel)(struct kctl_cmd *slot);
};

/* Finds and maps the device; exits with a message on any problem. */
void ctl_open(struct ctl *c);
/* Runs a command in slot 0 under the lock; returns status (negative errno); msg explains. */
int ctl_run(struct ctl *c, struct kctl_cmd *cmd);
/*
 * Runs a command in a slot its caller owns alone (keel-dm: KCTL_DM_SLOT), no
 * lock. Only the header, msg and text up to its NUL go in; text comes back
 * for LIST and INFO only: the slot is uncached memory, each byte costs.
 */
int ctl_run_slot(struct ctl *c, unsigned slot, struct kctl_cmd *cmd);
/* Maps [offset, offset + len) of the guest RAM window; exits on failure. */
void *ctl_window(struct ctl *c, uint64_t offset, uint64_t len);
/* The same, but NULL (errno set) on failure. */
void *ctl_window_map(struct ctl *c, uint64_t offset, uint64_t len);
uint32_t ctl_reg(struct ctl *c, uint32_t reg);
void ctl_set_reg(struct ctl *c, uint32_t reg, uint32_t val);
/*
 * Interrupts. uio wakes every process that has the device open, so each
 * acknowledges only the KCTL_IRQ_* bits it handles: another's status bits
 * stay set for it to see. ctl_irq_take reads IRQ_STATUS, acknowledges the
 * bits of ack that are set, and returns the status read; ctl_irq_rearm
 * re-enables INTx: uio_pci_generic masks it at each interrupt and has no
 * irqcontrol to unmask it (a write to /dev/uioN fails with ENOSYS), so
 * Interrupt Disable is cleared in the command register through sysfs.
 * masked: an interrupt came (uio_pci_generic masked INTx), so the register
 * need not be read first; else it is read, and written only if masked.
 */
uint32_t ctl_irq_take(struct ctl *c, uint32_t ack);
void ctl_irq_rearm(struct ctl *c, int masked);
/*
 * Waits up to ms for the interrupt (or just sleeps without uio), then
 * acknowledges the bits of ack. It re-arms INTx only when it took bits of
 * ack and no other bits are pending: whoever takes bits re-arms (keel-dm
 * takes all of them, and re-arms), and a line left high by bits nobody here
 * takes would wake us again at once.
 */
uint32_t ctl_wait(struct ctl *c, int ms, uint32_t ack);
struct kctl_ring_hdr *ctl_ring(struct ctl *c, uint32_t vm_id, uint32_t which);
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
