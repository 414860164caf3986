/* SPDX-License-Identifier: MIT */
/* Editing a physical memory map: add, sort and merge, carve. */
#ifndef KEEL_MEM_MAP_H
#define KEEL_MEM_MAP_H

#include <keel/boot_info.h>

/* Appends a region; returns -ENOSPC when the table is full. */
int mem_map_add(struct mem_map *m, u64 base, u64 size, u32 type);
/* Sorts by base and merges touching regions of the same type. */
void mem_map_normalize(struct mem_map *m);
/* Gives [base, base+size) the new type, splitting regions; the range must lie in RAM the map knows. */
int mem_map_carve(struct mem_map *m, u64 base, u64 size, u32 type);
const char *mem_type_name(u32 type);

#endif
