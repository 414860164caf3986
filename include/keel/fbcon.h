/* SPDX-License-Identifier: MIT */
/* A text console on the UEFI GOP framebuffer that mirrors the hypervisor's log. */
#ifndef KEEL_FBCON_H
#define KEEL_FBCON_H

#include <keel/boot_info.h>

void fbcon_init(const struct boot_framebuffer *fb);
void fbcon_write(const char *s, size_t n);
/* Stops drawing: the framebuffer now belongs to a VM. */
void fbcon_release(void);

#endif
