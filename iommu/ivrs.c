// SPDX-License-Identifier: MIT
/*
 * The IVRS table (AMD IOMMU 3.08 5.2) read into struct ivrs_info: each IOMMU
 * from its IVHD with the device ids it covers (ranges, aliases, IOAPICs and
 * HPETs), and the IVMD memory blocks. Pure: it reads only the bytes given.
 */
#include <keel/iommu_acpi.h>
#include <lib/string.h>

static u16 get16(const u8 *p)
{
	u16 v;

	memcpy(&v, p, 2);
	return v;
}

static u32 get32(const u8 *p)
{
	u32 v;

	memcpy(&v, p, 4);
	return v;
}

static u64 get64(const u8 *p)
{
	u64 v;

	memcpy(&v, p, 8);
	return v;
}

/* A range whose start entry was read and whose end entry (type 4) is still to come. */
struct pending {
	bool open;
	struct ivrs_range r;
};

static int add_range(struct ivrs_unit *u, u16 first, u16 last, u8 dte, u32 alias)
{
	if (last < first)
		return -EINVAL;
	if (u->nr_ranges == IVRS_MAX_RANGES)
		return -E2BIG;
	u->ranges[u->nr_ranges++] = (struct ivrs_range){ first, last, dte, alias };
	return 0;
}

/*
 * 5.2.2.2 table 95: types below 64 take 4 bytes, 64-127 take 8; of the
 * variable-length ones (128 and up) only the ACPI HID entry (F0h) has a
 * known length: 22 bytes plus its UID. 0 for the others.
 */
static u32 entry_length(const u8 *e, u32 left)
{
	if (e[0] < 64)
		return 4;
	if (e[0] < 128)
		return 8;
	if (e[0] == IVHD_DEV_ACPI_HID && left >= 22)
		return 22u + e[21];
	return 0;
}

static int special_add(struct ivrs_unit *u, const u8 *e)
{
	if (u->nr_specials == IVRS_MAX_SPECIALS)
		return -E2BIG;
	u->specials[u->nr_specials++] = (struct ivrs_special){
		.variety = e[7], .handle = e[4], .devid = get16(e + 5), .dte = e[3]
	};
	return 0;
}

static int range_open(struct pending *p, u16 devid, u8 dte, u32 alias)
{
	if (p->open)
		return -EINVAL; /* a start inside a range */
	*p = (struct pending){ true, { devid, devid, dte, alias } };
	return 0;
}

static int range_close(struct ivrs_unit *u, struct pending *p, u16 devid)
{
	if (!p->open)
		return -EINVAL; /* an end without a start */
	p->open = false;
	return add_range(u, p->r.first, devid, p->r.dte, p->r.alias);
}

/* One device entry of at least its length; type, device id and DTE setting come first. */
static int entry_parse(struct ivrs_unit *u, struct pending *p, const u8 *e)
{
	u16 devid = get16(e + 1);
	u8 dte = e[3];

	switch (e[0]) {
	case IVHD_DEV_ALL:
		return add_range(u, 0, 0xffff, dte, IVRS_DEVID_NONE);
	case IVHD_DEV_SELECT:
	case IVHD_DEV_EXT_SELECT:
		return add_range(u, devid, devid, dte, IVRS_DEVID_NONE);
	case IVHD_DEV_ALIAS_SELECT:
		return add_range(u, devid, devid, dte, get16(e + 5));
	case IVHD_DEV_RANGE_START:
	case IVHD_DEV_EXT_RANGE:
		return range_open(p, devid, dte, IVRS_DEVID_NONE);
	case IVHD_DEV_ALIAS_RANGE:
		return range_open(p, devid, dte, get16(e + 5));
	case IVHD_DEV_RANGE_END:
		return range_close(u, p, devid);
	case IVHD_DEV_SPECIAL:
		return special_add(u, e);
	case IVHD_DEV_ACPI_HID:
		u->nr_acpi++;
		return 0;
	default: /* padding (0) and types this revision reserves */
		return 0;
	}
}

static int entries_parse(struct ivrs_unit *u, const u8 *h, u32 off, u32 len)
{
	struct pending p = { 0 };

	while (off < len) {
		u32 elen = entry_length(h + off, len - off);
		int ret;

		if (!elen || elen > len - off)
			return -EINVAL;
		ret = entry_parse(u, &p, h + off);
		if (ret)
			return ret;
		off += elen;
	}
	return p.open ? -EINVAL : 0;
}

/* The unit this IVHD describes again (10h and 11h for the same IOMMU), or NULL. */
static struct ivrs_unit *same_unit(struct ivrs_info *out, const struct ivrs_unit *u)
{
	for (u32 i = 0; i < out->nr_units; i++) {
		struct ivrs_unit *o = &out->units[i];

		if (o->segment == u->segment && o->devid == u->devid && o->base == u->base)
			return o;
	}
	return NULL;
}

/* 5.2.2.1: the header of 24 (10h) or 40 (11h) bytes, then device entries. */
static int ivhd_parse(const u8 *h, u32 len, struct ivrs_info *out)
{
	static struct ivrs_unit u; /* one at a time; too big for the hypervisor's stack */
	u32 first = h[0] == IVRS_TYPE_IVHD_10 ? IVHD_10_ENTRIES : IVHD_11_ENTRIES;
	struct ivrs_unit *o;
	int ret;

	if (len < first)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	u.type = h[0];
	u.flags = h[1];
	u.devid = get16(h + 4);
	u.cap_offset = get16(h + 6);
	u.base = get64(h + 8);
	u.segment = get16(h + 16);
	u.info = get16(h + 18);
	u.attributes = get32(h + 20);
	if (u.type == IVRS_TYPE_IVHD_11)
		u.efr = get64(h + 24);
	if (!u.base || !IS_ALIGNED(u.base, 16 * KiB)) /* 3.4: 16 KiB aligned */
		return -EINVAL;
	ret = entries_parse(&u, h, first, len);
	if (ret)
		return ret;
	o = same_unit(out, &u);
	if (o) { /* the newer type describes it better: keep that one */
		if (u.type > o->type)
			*o = u;
		return 0;
	}
	if (out->nr_units == IOMMU_MAX_UNITS)
		return -E2BIG;
	out->units[out->nr_units++] = u;
	return 0;
}

/* 5.2.2.3: type, flags, length, device id, auxiliary data, reserved, start, length. */
static int ivmd_parse(const u8 *m, u32 len, struct ivrs_info *out)
{
	struct ivrs_ivmd *d;
	u64 base, end;

	if (len < 32)
		return -EINVAL;
	if (out->nr_ivmds == IVRS_MAX_IVMDS)
		return -E2BIG;
	d = &out->ivmds[out->nr_ivmds];
	d->type = m[0];
	d->flags = m[1];
	d->first = m[0] == IVRS_TYPE_IVMD_ALL ? 0 : get16(m + 4);
	d->last = m[0] == IVRS_TYPE_IVMD_ALL ? 0xffff :
		  m[0] == IVRS_TYPE_IVMD_ONE ? d->first :
					       get16(m + 6);
	base = get64(m + 16);
	end = base + get64(m + 24);
	if (d->last < d->first || end < base || end > ~0ULL - PAGE_SIZE)
		return -EINVAL;
	/* whole pages: what the device may touch is rounded out, never in */
	d->base = ALIGN_DOWN(base, PAGE_SIZE);
	d->length = ALIGN_UP(end, PAGE_SIZE) - d->base;
	out->nr_ivmds++;
	return 0;
}

int ivrs_parse(const void *table, u32 len, struct ivrs_info *out)
{
	const u8 *t = table;
	u32 total;

	memset(out, 0, sizeof(*out));
	if (len < IOMMU_ACPI_BODY || memcmp(t, "IVRS", 4))
		return -EINVAL;
	total = get32(t + 4);
	if (total < IOMMU_ACPI_BODY || total > len)
		return -EINVAL;
	out->ivinfo = get32(t + IVRS_IVINFO_OFFSET);
	for (u32 off = IOMMU_ACPI_BODY; off < total;) {
		u8 type;
		u16 blen;
		int ret = 0;

		if (total - off < 4)
			return -EINVAL;
		type = t[off];
		blen = get16(t + off + 2);
		if (blen < 4 || blen > total - off)
			return -EINVAL;
		if (type == IVRS_TYPE_IVHD_10 || type == IVRS_TYPE_IVHD_11)
			ret = ivhd_parse(t + off, blen, out);
		else if (type >= IVRS_TYPE_IVMD_ALL && type <= IVRS_TYPE_IVMD_RANGE)
			ret = ivmd_parse(t + off, blen, out);
		else
			out->nr_other++;
		if (ret)
			return ret;
		off += blen;
	}
	return 0;
}
