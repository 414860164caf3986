/* SPDX-License-Identifier: MIT */
/* Kernel loaders: put an image into a VM's memory and set its boot CPU's entry state. */
#ifndef KEEL_LOADER_H
#define KEEL_LOADER_H

#include <lib/types.h>

struct vm;

#define LOADER_ERR_MAX 128

/* A multiboot boot module (Multiboot 0.6.96 section 3.3, mods_addr). */
struct multiboot_module {
	const u8 *data;
	u64 size;
	const char *cmdline;
};

/*
 * Multiboot (v1) kernels: an ELF32/ELF64 file or any image whose header has
 * the address fields (Multiboot 0.6.96 section 3.1), with mod (NULL: none)
 * as module 0, page-aligned after the kernel. -ENOEXEC with a message in
 * err if the image is not one or it or the module does not fit the VM's RAM.
 */
int multiboot_load(struct vm *vm, const u8 *image, u64 size, const char *cmdline,
		   const struct multiboot_module *mod, char *err);

#endif
