// SPDX-License-Identifier: MIT
/*
 * The DMAR table (VT-d 4.1 ch. 8) read into struct dmar_info: the remapping
 * units with their device scopes, the reserved memory regions and the
 * interrupt-remapping flags. Pure: it reads only the bytes it is given.
 */
#include <keel/iommu_acpi.h>
#include <lib/string.h>

static u16 get16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* 8.3.1: type, length, 2 reserved/flags bytes, enumeration id, start bus, then 2 bytes a hop. */
static int scope_parse(const u8 *p, u32 left, struct dmar_scope *s, u32 *used)
{
	u8 len;

	if (left < 2)
		return -EINVAL;
	len = p[1];
	if (len < DMAR_SCOPE_HEADER || len > left || (len - DMAR_SCOPE_HEADER) % 2)
		return -EINVAL;
	if ((len - DMAR_SCOPE_HEADER) / 2 > DMAR_MAX_PATH)
		return -E2BIG;
	s->type = p[0];
	s->enum_id = p[4];
	s->bus = p[5];
	s->path_len = (u8)((len - DMAR_SCOPE_HEADER) / 2);
	for (u32 i = 0; i < s->path_len; i++) {
		u8 dev = p[DMAR_SCOPE_HEADER + 2 * i], fn = p[DMAR_SCOPE_HEADER + 2 * i + 1];

		if (dev > 31 || fn > 7)
			return -EINVAL;
		s->path[i] = (u8)(dev << 3 | fn);
	}
	*used = len;
	return 0;
}

/* The scopes that fill a structure from `off` to its end. */
static int scopes_parse(const u8 *p, u32 off, u32 len, struct dmar_scope *out, u32 *n)
{
	*n = 0;
	while (off < len) {
		u32 used;
		int ret;

		if (*n == DMAR_MAX_SCOPES)
			return -E2BIG;
		ret = scope_parse(p + off, len - off, &out[*n], &used);
		if (ret)
			return ret;
		(*n)++;
		off += used;
	}
	return 0;
}

/* 8.3: flags, size, segment, register base, scopes. */
static int drhd_parse(const u8 *p, u32 len, struct dmar_info *out)
{
	struct dmar_unit *u;

	if (len < DMAR_DRHD_SCOPES)
		return -EINVAL;
	if (out->nr_units == IOMMU_MAX_UNITS)
		return -E2BIG;
	u = &out->units[out->nr_units];
	u->include_all = p[4] & DMAR_DRHD_INCLUDE_PCI_ALL;
	u->size = PAGE_SIZE << (p[5] & DMAR_DRHD_SIZE_MASK);
	u->segment = get16(p + 6);
	u->base = get64(p + 8);
	if (!u->base || !IS_ALIGNED(u->base, PAGE_SIZE))
		return -EINVAL;
	out->nr_units++;
	return scopes_parse(p, DMAR_DRHD_SCOPES, len, u->scopes, &u->nr_scopes);
}

/* 8.4: reserved, segment, base, limit (its last byte), scopes. */
static int rmrr_parse(const u8 *p, u32 len, struct dmar_info *out)
{
	struct dmar_rmrr *r;

	if (len < DMAR_RMRR_SCOPES)
		return -EINVAL;
	if (out->nr_rmrrs == DMAR_MAX_RMRRS)
		return -E2BIG;
	r = &out->rmrrs[out->nr_rmrrs];
	r->segment = get16(p + 6);
	r->base = get64(p + 8);
	r->limit = get64(p + 16);
	/* 4 KiB aligned base, limit + 1 too (8.4) */
	if (!IS_ALIGNED(r->base, PAGE_SIZE) || !IS_ALIGNED(r->limit + 1, PAGE_SIZE) ||
	    r->limit < r->base)
		return -EINVAL;
	out->nr_rmrrs++;
	return scopes_parse(p, DMAR_RMRR_SCOPES, len, r->scopes, &r->nr_scopes);
}

int dmar_parse(const void *table, u32 len, struct dmar_info *out)
{
	const u8 *t = table;
	u32 total;

	memset(out, 0, sizeof(*out));
	if (len < IOMMU_ACPI_BODY || memcmp(t, "DMAR", 4))
		return -EINVAL;
	memcpy(&total, t + 4, 4);
	if (total < IOMMU_ACPI_BODY || total > len)
		return -EINVAL;
	out->haw = (u8)(t[DMAR_HAW_OFFSET] + 1);
	out->intr_remap = t[DMAR_FLAGS_OFFSET] & DMAR_F_INTR_REMAP;
	out->x2apic_opt_out = t[DMAR_FLAGS_OFFSET] & DMAR_F_X2APIC_OPT_OUT;
	for (u32 off = IOMMU_ACPI_BODY; off < total;) {
		u16 type, slen;
		int ret = 0;

		if (total - off < 4)
			return -EINVAL;
		type = get16(t + off);
		slen = get16(t + off + 2);
		if (slen < 4 || slen > total - off)
			return -EINVAL;
		if (type == DMAR_TYPE_DRHD)
			ret = drhd_parse(t + off, slen, out);
		else if (type == DMAR_TYPE_RMRR)
			ret = rmrr_parse(t + off, slen, out);
		else
			out->nr_other++;
		if (ret)
			return ret;
		off += slen;
	}
	return 0;
}
