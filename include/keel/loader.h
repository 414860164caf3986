/* SPDX-License-Identifier: MIT */
/* Kernel loaders: put an image into a VM's memory and set its boot CPU's entry state. */
#ifndef KEEL_LOADER_H
#define KEEL_LOADER_H

#include <lib/types.h>

struct vm;

#define LOADER_ERR_MAX 128

/*
 * Multiboot (v1) kernels: an ELF32/ELF64 file or any image whose header has
 * the address fields (Multiboot 0.6.96 section 3.1). -ENOEXEC with a
 * message in err if the image is not one or does not fit the VM's RAM.
 */
int multiboot_load(struct vm *vm, const u8 *image, u64 size, const char *cmdline, char *err);

#endif
