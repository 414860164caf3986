/* SPDX-License-Identifier: MIT */
/* keelctl's access to the control device: discovery, mapping, commands, the guest RAM window. */
#ifndef KEELCTL_CTL_H
#define KEELCTL_CTL_H

#include <keel/keelctl_abi.h>
#include <stddef.h>
#include <stdint.h>

struct ctl {
	char dev[320];	    /* /sys/bus/pci/devices/<bdf> */
	volatile uint8_t *bar0;
	int uio_fd;	    /* -1: no uio_pci_generic, poll instead */
	uint64_t window_size;
};

/* Finds and maps the device; exits with a message on any problem. */
void ctl_open(struct ctl *c);
/* Runs a command in slot 0 under the lock; returns status (negative errno); msg explains. */
int ctl_run(struct ctl *c, struct kctl_cmd *cmd);
/* Maps [offset, offset + len) of the guest RAM window. */
void *ctl_window(struct ctl *c, uint64_t offset, uint64_t len);
uint32_t ctl_reg(struct ctl *c, uint32_t reg);
void ctl_set_reg(struct ctl *c, uint32_t reg, uint32_t val);
/* Waits up to ms for the device's interrupt (or just sleeps without uio). */
void ctl_wait(struct ctl *c, int ms);
struct kctl_ring_hdr *ctl_ring(struct ctl *c, uint32_t vm_id, uint32_t which);
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
