// SPDX-License-Identifier: MIT
/* Physical memory map editing, shared by the boot stub and host tests. */
#include <keel/mem_map.h>
#include <lib/string.h>

int mem_map_add(struct mem_map *m, u64 base, u64 size, u32 type)
{
	if (!size)
		return 0;
	if (m->nr >= BOOT_MAX_REGIONS)
		return -ENOSPC;
	m->r[m->nr++] = (struct mem_region){ base, size, type, 0 };
	return 0;
}

void mem_map_normalize(struct mem_map *m)
{
	struct mem_region *r = m->r;
	u32 n = m->nr, out = 0;

	for (u32 i = 1; i < n; i++) { /* insertion sort: maps hold a few hundred entries */
		struct mem_region cur = r[i];
		u32 j = i;

		for (; j > 0 && r[j - 1].base > cur.base; j--)
			r[j] = r[j - 1];
		r[j] = cur;
	}
	for (u32 i = 0; i < n; i++) {
		if (!r[i].size)
			continue;
		if (out && r[out - 1].type == r[i].type &&
		    r[out - 1].base + r[out - 1].size == r[i].base)
			r[out - 1].size += r[i].size;
		else
			r[out++] = r[i];
	}
	m->nr = out;
}

int mem_map_carve(struct mem_map *m, u64 base, u64 size, u32 type)
{
	u64 end = base + size;

	if (!size || end < base)
		return -EINVAL;
	for (u32 i = 0; i < m->nr; i++) {
		struct mem_region r = m->r[i];
		u64 rend = r.base + r.size;

		if (base < r.base || end > rend)
			continue;
		if (m->nr + 2 > BOOT_MAX_REGIONS)
			return -ENOSPC;
		m->r[i].size = base - r.base; /* head keeps the old type */
		mem_map_add(m, base, size, type);
		mem_map_add(m, end, rend - end, r.type);
		mem_map_normalize(m);
		return 0;
	}
	return -EINVAL;
}

const char *mem_type_name(u32 type)
{
	static const char *const names[MEM_TYPE_COUNT] = {
		[MEM_FREE] = "free",
		[MEM_BOOT_SERVICES] = "boot-services",
		[MEM_HYPERVISOR] = "hypervisor",
		[MEM_MODULE] = "boot-module",
		[MEM_RESERVED] = "reserved",
		[MEM_ACPI_RECLAIM] = "acpi-tables",
		[MEM_ACPI_NVS] = "acpi-nvs",
		[MEM_UNUSABLE] = "unusable",
		[MEM_PERSISTENT] = "persistent",
	};

	return type < MEM_TYPE_COUNT && names[type] ? names[type] : "unknown";
}

const struct boot_module *boot_module_find(const struct boot_info *bi, const char *path)
{
	for (u32 i = 0; i < bi->nr_modules; i++)
		if (!strcmp(bi->modules[i].path, path))
			return &bi->modules[i];
	return NULL;
}
