/* SPDX-License-Identifier: MIT */
/* A firmware VM's flash below 4 GiB: the firmware code, read-only, and a variable store. */
#ifndef KEEL_FLASH_H
#define KEEL_FLASH_H

#include <lib/types.h>

struct vm;

/*
 * Maps code (code_pages from page_alloc) at [4 GiB - code size, 4 GiB) and
 * vars (or none) just below it, readable and executable, and takes the pages
 * over (freed with the VM, also when this fails). Writes trap. Code writes
 * are dropped, and so are vars writes unless vars_dm: the firmware's flash
 * probe then finds ROM and keeps its variables in RAM. With vars_dm the
 * store is a CFI flash keel-dm serves (keelctl create --vars): its writes,
 * and its reads in command mode, go to keel-dm, and its answers
 * (KCTL_FLASH_*) change the pages here and map or unmap them.
 */
int flash_attach(struct vm *vm, u8 *code, u64 code_pages, u8 *vars, u64 vars_pages, bool vars_dm);

#endif
