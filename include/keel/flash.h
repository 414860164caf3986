/* SPDX-License-Identifier: MIT */
/* A firmware VM's flash below 4 GiB: the firmware code, read-only, and a variable store. */
#ifndef KEEL_FLASH_H
#define KEEL_FLASH_H

#include <lib/types.h>

struct vm;
struct vcpu;

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

/*
 * A platform reset (0xCF9): the store reads as its array again, as a CFI
 * flash does after reset, so the firmware's early phases read it as memory;
 * keel-dm's state machine follows at the next command (OVMF's probe starts
 * with clear status).
 */
void flash_reset(struct vm *vm);

#endif
