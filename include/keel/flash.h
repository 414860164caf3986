/* SPDX-License-Identifier: MIT */
/* A firmware VM's flash below 4 GiB: the firmware code and a variable store, read-only. */
#ifndef KEEL_FLASH_H
#define KEEL_FLASH_H

#include <lib/types.h>

struct vm;

/*
 * Maps code (code_pages from page_alloc) at [4 GiB - code size, 4 GiB) and
 * vars (or none) just below it, readable and executable, and takes the pages
 * over (freed with the VM, also when this fails). Writes trap and are
 * dropped: the firmware's flash probe then finds ROM and keeps its
 * variables in RAM. A CFI flash served by keel-dm (--vars) comes later.
 */
int flash_attach(struct vm *vm, u8 *code, u64 code_pages, u8 *vars, u64 vars_pages);

#endif
