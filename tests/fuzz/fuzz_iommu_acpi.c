// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for iommu/dmar.c and iommu/ivrs.c: the input is a table body;
 * the first byte picks DMAR or IVRS, the header is made to say that and the input's
 * length, so every input reaches the structures. The oracles: ASan (no read past
 * the given bytes) and, for each table read without error, what the parser promises:
 * counts within the limits, ranges and RMRRs that do not run backwards, paths of
 * real devices and functions, IVMDs of whole pages that do not wrap.
 */
#include <keel/iommu_acpi.h>
#include <stdlib.h>
#include <string.h>

static struct dmar_info di;
static struct ivrs_info ii;

static void check_dmar(void)
{
	if (di.nr_units > IOMMU_MAX_UNITS || di.nr_rmrrs > DMAR_MAX_RMRRS)
		abort();
	for (u32 i = 0; i < di.nr_units; i++) {
		if (di.units[i].nr_scopes > DMAR_MAX_SCOPES || !di.units[i].base ||
		    di.units[i].base & 0xfff)
			abort();
		for (u32 j = 0; j < di.units[i].nr_scopes; j++)
			if (di.units[i].scopes[j].path_len > DMAR_MAX_PATH)
				abort();
	}
	for (u32 i = 0; i < di.nr_rmrrs; i++)
		if (di.rmrrs[i].limit < di.rmrrs[i].base || (di.rmrrs[i].base & 0xfff) ||
		    ((di.rmrrs[i].limit + 1) & 0xfff) || di.rmrrs[i].nr_scopes > DMAR_MAX_SCOPES)
			abort();
}

static void check_ivrs(void)
{
	if (ii.nr_units > IOMMU_MAX_UNITS || ii.nr_ivmds > IVRS_MAX_IVMDS)
		abort();
	for (u32 i = 0; i < ii.nr_units; i++) {
		const struct ivrs_unit *u = &ii.units[i];

		if (u->nr_ranges > IVRS_MAX_RANGES || u->nr_specials > IVRS_MAX_SPECIALS ||
		    (u->type != IVRS_TYPE_IVHD_10 && u->type != IVRS_TYPE_IVHD_11))
			abort();
		for (u32 j = 0; j < u->nr_ranges; j++)
			if (u->ranges[j].last < u->ranges[j].first)
				abort();
		for (u32 j = 0; j < i; j++) /* one unit per IOMMU */
			if (ii.units[j].base == u->base && ii.units[j].devid == u->devid &&
			    ii.units[j].segment == u->segment)
				abort();
	}
	for (u32 i = 0; i < ii.nr_ivmds; i++) {
		const struct ivrs_ivmd *m = &ii.ivmds[i];

		if (m->last < m->first || (m->base & 0xfff) || (m->length & 0xfff) ||
		    m->base + m->length < m->base)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u32 len;
	u8 *t;

	if (size < 1 || size > 65536)
		return 0;
	len = (u32)(size - 1 + IOMMU_ACPI_BODY);
	t = malloc(len);
	memset(t, 0, IOMMU_ACPI_BODY);
	memcpy(t, data[0] & 1 ? "IVRS" : "DMAR", 4);
	memcpy(t + 4, &len, 4);
	t[36] = data[0] >> 1; /* DMAR: host address width; IVRS: IVinfo */
	memcpy(t + IOMMU_ACPI_BODY, data + 1, size - 1);
	if (data[0] & 1) {
		if (!ivrs_parse(t, len, &ii))
			check_ivrs();
	} else if (!dmar_parse(t, len, &di)) {
		check_dmar();
	}
	free(t);
	return 0;
}
