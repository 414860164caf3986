// SPDX-License-Identifier: MIT
/* Writing AML byte code for the guest DSDT: names, objects, PkgLength and resource descriptors. */
#include <keel/aml.h>
#include <lib/string.h>

/* ACPI 6.5 6.4 resource descriptors */
#define RES_IRQ_NO_FLAGS 0x22 /* 6.4.2.1: small item 0x04, length 2 */
#define RES_IO 0x47	      /* 6.4.2.5: small item 0x08, length 7 */
#define RES_IO_DECODE16 BIT(0)
#define RES_END_TAG 0x79       /* 6.4.2.9: small item 0x0f, length 1 */
#define RES_DWORD_ADDRESS 0x87 /* 6.4.3.5.2 */
#define RES_WORD_ADDRESS 0x88  /* 6.4.3.5.3 */
#define RES_EXT_INTERRUPT 0x89 /* 6.4.3.6 */
#define RES_QWORD_ADDRESS 0x8a /* 6.4.3.5.1 */
#define RES_ADDR_FIXED_LEN 3   /* type, general and type-specific flags, 6.4.3.5.1 */
#define RES_ADDR_FIELDS 5      /* _GRA, _MIN, _MAX, _TRA, _LEN */
#define RES_TYPE_MEMORY 0      /* 6.4.3.5.1 Resource Type */
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_CONSUMER BIT(0) /* general flags, 6.4.3.5.1 */
#define RES_MIN_FIXED BIT(2)
#define RES_MAX_FIXED BIT(3)
#define RES_MEM_RW BIT(0)	/* 6.4.3.5.5 memory flags; _MEM 0: non-cacheable */
#define RES_IO_ENTIRE_RANGE 3	/* 6.4.3.5.5 I/O flags _RNG */
#define RES_INT_CONSUMER BIT(0) /* 6.4.3.6 interrupt vector flags */
#define RES_INT_EDGE BIT(1)	/* _HE; _LL 0 is active high, _SHR 0 exclusive */
#define RES_INT_FIXED_LEN 2	/* flags and table length */

static void aml_fail(struct aml *a, int err)
{
	if (!a->err)
		a->err = err;
}

static void aml_bytes(struct aml *a, const void *p, u32 n)
{
	if (a->err)
		return;
	if (n > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

static void aml_byte(struct aml *a, u8 b)
{
	aml_bytes(a, &b, 1);
}

/* n bytes of v, little endian, as every AML and resource field is. */
static void aml_le(struct aml *a, u64 v, u32 n)
{
	for (u32 i = 0; i < n; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

void aml_init(struct aml *a, u8 *buf, u32 size)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->size = size;
}

int aml_finish(struct aml *a)
{
	if (a->depth)
		aml_fail(a, -EINVAL);
	return a->err ? a->err : (int)a->len;
}

/* ACPI 6.5 20.2.3: ZeroOp, OneOp or the narrowest of Byte/Word/DWord/QWordConst. */
static u32 aml_encode_integer(u8 *out, u64 v)
{
	static const u8 prefix[] = { AML_BYTE_PREFIX, AML_WORD_PREFIX, AML_DWORD_PREFIX,
				     AML_QWORD_PREFIX };
	u32 k = 0;

	if (v == 0 || v == 1) {
		out[0] = v ? AML_ONE_OP : AML_ZERO_OP;
		return 1;
	}
	while (k < 3 && v >> (8 << k))
		k++; /* k: 0 byte, 1 word, 2 dword, 3 qword */
	out[0] = prefix[k];
	for (u32 i = 0; i < (1u << k); i++)
		out[1 + i] = (u8)(v >> (8 * i));
	return 1 + (1u << k);
}

void aml_integer(struct aml *a, u64 v)
{
	u8 enc[9];

	aml_bytes(a, enc, aml_encode_integer(enc, v));
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, (u32)strlen(s) + 1);
}

static int aml_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * ACPI 6.5 19.6.35 EISAID: three upper-case letters, 5 bits each ('A' is 1),
 * then four hex digits, stored as a DWordConst whose bytes read big endian.
 */
void aml_eisa_id(struct aml *a, const char *id)
{
	u32 v = 0;

	if (strlen(id) != 7) {
		aml_fail(a, -EINVAL);
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z')
			aml_fail(a, -EINVAL);
		v |= (u32)(id[i] - '@') << (26 - 5 * i);
	}
	for (int i = 3; i < 7; i++) {
		if (aml_hex_digit(id[i]) < 0)
			aml_fail(a, -EINVAL);
		v |= (u32)(aml_hex_digit(id[i]) & 0xf) << (4 * (6 - i));
	}
	aml_byte(a, AML_DWORD_PREFIX);
	for (int i = 3; i >= 0; i--)
		aml_byte(a, (u8)(v >> (8 * i)));
}

static bool aml_name_char_ok(char c, bool lead)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!lead && c >= '0' && c <= '9');
}

/* One NameSeg of 1-4 characters, padded with '_' (20.2.2); returns what it consumed. */
static u32 aml_name_seg(struct aml *a, const char *s)
{
	char seg[AML_NAME_SEG_LEN] = { '_', '_', '_', '_' };
	u32 n = 0;

	while (s[n] && s[n] != '.') {
		if (n == AML_NAME_SEG_LEN || !aml_name_char_ok(s[n], n == 0)) {
			aml_fail(a, -EINVAL);
			return n;
		}
		seg[n] = s[n];
		n++;
	}
	if (!n)
		aml_fail(a, -EINVAL);
	aml_bytes(a, seg, sizeof(seg));
	return n;
}

void aml_name_string(struct aml *a, const char *path)
{
	u32 segs = 1;

	while (*path == '\\' || *path == '^')
		aml_byte(a, *path++ == '\\' ? AML_ROOT_CHAR : AML_PARENT_PREFIX);
	for (const char *p = path; *p; p++)
		segs += *p == '.';
	if (segs == 2) {
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	} else if (segs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (u8)segs);
	}
	for (u32 i = 0; i < segs && !a->err; i++) {
		path += aml_name_seg(a, path);
		path += *path == '.';
	}
}

void aml_arg(struct aml *a, u8 n)
{
	if (n > AML_MAX_ARG)
		aml_fail(a, -EINVAL);
	aml_byte(a, (u8)(AML_ARG0_OP + n));
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, name);
}

/* The contents start here; aml_close() puts the PkgLength in front of them. */
static void aml_open(struct aml *a, bool buffer)
{
	if (a->depth == AML_MAX_DEPTH) {
		aml_fail(a, -EINVAL);
		return;
	}
	a->open_buffer[a->depth] = buffer;
	a->open_at[a->depth++] = a->len;
}

void aml_scope(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	aml_open(a, false);
	aml_name_string(a, path);
}

void aml_device(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_DEVICE_OP);
	aml_open(a, false);
	aml_name_string(a, path);
}

void aml_method(struct aml *a, const char *name, u8 nr_args)
{
	if (nr_args > AML_METHOD_ARGS)
		aml_fail(a, -EINVAL);
	aml_byte(a, AML_METHOD_OP);
	aml_open(a, false);
	aml_name_string(a, name);
	aml_byte(a, nr_args & AML_METHOD_ARGS);
}

void aml_if(struct aml *a)
{
	aml_byte(a, AML_IF_OP);
	aml_open(a, false);
}

void aml_package(struct aml *a, u8 nr_elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	aml_open(a, false);
	aml_byte(a, nr_elements);
}

static void aml_buffer(struct aml *a)
{
	aml_byte(a, AML_BUFFER_OP);
	aml_open(a, true);
}

/* ACPI 6.5 20.2.4: the length counts its own bytes; 0 if it cannot be encoded. */
static u32 aml_encode_pkglen(u8 *out, u32 body)
{
	if (body + 1 <= AML_PKGLEN_1BYTE_MAX) {
		out[0] = (u8)(body + 1);
		return 1;
	}
	for (u32 n = 2; n <= 4; n++) {
		u32 total = body + n;

		if (body >= AML_PKGLEN_MAX || total >= 1u << (4 + 8 * (n - 1)))
			continue;
		out[0] = (u8)(((n - 1) << AML_PKGLEN_EXTRA_SHIFT) | (total & 0xf));
		for (u32 i = 1; i < n; i++)
			out[i] = (u8)(total >> (4 + 8 * (i - 1)));
		return n;
	}
	return 0;
}

void aml_close(struct aml *a)
{
	u8 head[4 + 9];
	u32 start, body, n, size_len = 0;
	u8 size_enc[9];

	if (!a->depth) {
		aml_fail(a, -EINVAL);
		return;
	}
	a->depth--;
	if (a->err)
		return;
	start = a->open_at[a->depth];
	body = a->len - start;
	if (a->open_buffer[a->depth])
		size_len = aml_encode_integer(size_enc, body); /* BufferSize, 20.2.5.4 */
	n = aml_encode_pkglen(head, body + size_len);
	memcpy(head + n, size_enc, size_len);
	n += size_len;
	if (n == size_len || n > a->size - a->len) {
		aml_fail(a, -ENOSPC);
		return;
	}
	memmove(a->buf + start + n, a->buf + start, body);
	memcpy(a->buf + start, head, n);
	a->len += n;
}

void aml_lequal(struct aml *a)
{
	aml_byte(a, AML_LEQUAL_OP);
}

void aml_notify(struct aml *a, const char *path, u8 value)
{
	aml_byte(a, AML_NOTIFY_OP);
	aml_name_string(a, path);
	aml_integer(a, value);
}

void aml_resource_template(struct aml *a)
{
	aml_buffer(a);
}

/* ACPI 6.5 6.4.2.9: a checksum of 0 means the template is taken as valid. */
void aml_resource_template_end(struct aml *a)
{
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);
	aml_close(a);
}

/*
 * ACPI 6.5 6.4.3.5.1-3: Word, DWord and QWord address space descriptors
 * share one layout; only the width of the five range fields differs.
 */
static void aml_res_address(struct aml *a, u8 tag, u32 width, u8 type, u8 general, u8 specific,
			    u64 min, u64 max)
{
	aml_byte(a, tag);
	aml_le(a, RES_ADDR_FIXED_LEN + RES_ADDR_FIELDS * width, 2);
	aml_byte(a, type);
	aml_byte(a, general | RES_MIN_FIXED | RES_MAX_FIXED);
	aml_byte(a, specific);
	aml_le(a, 0, width); /* _GRA: 0, the range is fixed */
	aml_le(a, min, width);
	aml_le(a, max, width);
	aml_le(a, 0, width); /* _TRA: no translation */
	aml_le(a, max - min + 1, width);
}

void aml_res_word_bus_number(struct aml *a, u16 min, u16 max)
{
	aml_res_address(a, RES_WORD_ADDRESS, 2, RES_TYPE_BUS, 0, 0, min, max);
}

void aml_res_word_io(struct aml *a, u16 min, u16 max)
{
	aml_res_address(a, RES_WORD_ADDRESS, 2, RES_TYPE_IO, 0, RES_IO_ENTIRE_RANGE, min, max);
}

void aml_res_dword_memory(struct aml *a, bool producer, u32 min, u32 max)
{
	aml_res_address(a, RES_DWORD_ADDRESS, 4, RES_TYPE_MEMORY, producer ? 0 : RES_CONSUMER,
			RES_MEM_RW, min, max);
}

void aml_res_qword_memory(struct aml *a, bool producer, u64 min, u64 max)
{
	aml_res_address(a, RES_QWORD_ADDRESS, 8, RES_TYPE_MEMORY, producer ? 0 : RES_CONSUMER,
			RES_MEM_RW, min, max);
}

void aml_res_io(struct aml *a, u16 port, u8 len)
{
	aml_byte(a, RES_IO);
	aml_byte(a, RES_IO_DECODE16);
	aml_le(a, port, 2); /* _MIN */
	aml_le(a, port, 2); /* _MAX */
	aml_byte(a, 1);	    /* _ALN */
	aml_byte(a, len);   /* _LEN */
}

void aml_res_irq_no_flags(struct aml *a, u8 irq)
{
	if (irq > 15)
		aml_fail(a, -EINVAL);
	aml_byte(a, RES_IRQ_NO_FLAGS);
	aml_le(a, BIT(irq & 15), 2); /* _INT: a mask of ISA IRQs */
}

void aml_res_interrupt(struct aml *a, u32 gsi)
{
	aml_byte(a, RES_EXT_INTERRUPT);
	aml_le(a, RES_INT_FIXED_LEN + 4, 2);
	aml_byte(a, RES_INT_CONSUMER | RES_INT_EDGE);
	aml_byte(a, 1); /* one interrupt number follows */
	aml_le(a, gsi, 4);
}
