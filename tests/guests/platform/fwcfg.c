// SPDX-License-Identifier: MIT
/*
 * Test guest: the platform a firmware or test kernel reads. Multiboot module 0
 * (its bytes against modlen=/modsum= on the command line, its command line's
 * last word against modtag=); fw_cfg through its ports and its DMA interface:
 * the signature, features, the file directory, NB_CPUS and MAX_CPUS against
 * cpus=, RAM_SIZE against ram= (MiB), etc/e820 against the multiboot map; and
 * the ACPI tables placed by following etc/table-loader, whose RSDP, checksums
 * and MADT must agree with NB_CPUS. Passes on QEMU's own -kernel/-initrd too.
 */
#include "../lib/guest.h"
#include <lib/string.h>

const char test_name[] = "fwcfg";
extern u32 mb_info;

#define FW_SEL 0x510
#define FW_DATA 0x511
#define FW_DMA 0x514
#define KEY_SIGNATURE 0x00
#define KEY_ID 0x01
#define KEY_RAM_SIZE 0x03
#define KEY_NB_CPUS 0x05
#define KEY_MAX_CPUS 0x0f
#define KEY_FILE_DIR 0x19
#define DMA_ERROR 0x01
#define DMA_READ 0x02
#define DMA_SKIP 0x04
#define DMA_SELECT 0x08
#define DMA_WRITE 0x10
#define MAX_BLOBS 8
#define HEAP_SIZE (512 * 1024)

struct mb_mod {
	u32 start, end, string, reserved;
};

struct e820 {
	u64 addr, size;
	u32 type;
} __attribute__((packed));

static u8 heap[HEAP_SIZE] __attribute__((aligned(4096)));
static u32 heap_used;
static const char *cmdline;

static u64 number(const char *p)
{
	u64 v = 0;

	if (p[0] == '0' && p[1] == 'x')
		for (p += 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
			v = v * 16 + (u64)(*p <= '9' ? *p - '0' : *p - 'a' + 10);
	else
		for (; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (u64)(*p - '0');
	return v;
}

static u64 arg(const char *key)
{
	const char *p = strstr(cmdline, key);

	if (!p)
		fail_at(__LINE__, "no %s on the command line '%s'", key, cmdline);
	return number(p + strlen(key));
}

static u32 be32(u32 x)
{
	return __builtin_bswap32(x);
}

static void fw_select(u16 key)
{
	outw(FW_SEL, key);
}

static void fw_read(u16 key, void *buf, u32 len)
{
	fw_select(key);
	for (u32 i = 0; i < len; i++)
		((u8 *)buf)[i] = inb(FW_DATA);
}

/* One DMA operation (fw_cfg.rst "Guest-side DMA Interface"); returns the control word after it. */
static u32 fw_dma(u32 control, void *buf, u32 len)
{
	static volatile struct {
		u32 control, length;
		u64 address;
	} __attribute__((aligned(16))) d;
	u64 a = (u64)&d;

	d.control = be32(control);
	d.length = be32(len);
	d.address = __builtin_bswap64((u64)buf);
	outl(FW_DMA, be32((u32)(a >> 32)));
	outl(FW_DMA + 4, be32((u32)a));
	return be32(d.control);
}

static u16 fw_file(const char *name, u32 *size)
{
	u32 n;
	u8 e[64];

	fw_read(KEY_FILE_DIR, &n, 4);
	n = be32(n);
	for (u32 i = 0; i < n; i++) {
		for (u32 j = 0; j < 64; j++)
			e[j] = inb(FW_DATA);
		if (!strcmp((const char *)e + 8, name)) {
			*size = be32(*(u32 *)e);
			return (u16)(e[4] << 8 | e[5]);
		}
	}
	return 0;
}

static void *alloc(u32 len, u32 align)
{
	u32 at = (heap_used + align - 1) & ~(align - 1);

	CHECK(align && !(align & (align - 1)) && at + len <= HEAP_SIZE);
	heap_used = at + len;
	return heap + at;
}

static u8 sum(const void *p, u32 len)
{
	u8 s = 0;

	for (u32 i = 0; i < len; i++)
		s += ((const u8 *)p)[i];
	return s;
}

static void check_module(const u32 *mbi)
{
	const struct mb_mod *m;
	const char *mcmd, *last;
	u32 h = 2166136261u; /* FNV-1a */

	CHECK(mbi[0] & (1 << 3));
	CHECK(mbi[5] >= 1);
	m = (const struct mb_mod *)(u64)mbi[6];
	CHECK_EQ(m->end - m->start, arg("modlen="));
	for (u32 a = m->start; a < m->end; a++)
		h = (h ^ *(const u8 *)(u64)a) * 16777619u;
	CHECK_EQ(h, arg("modsum="));
	mcmd = (const char *)(u64)m->string;
	last = mcmd;
	for (const char *p = mcmd; *p; p++)
		if (p[0] == ' ' && p[1])
			last = p + 1;
	gprintf("module 0: %u bytes at %x, command line '%s'\n", m->end - m->start, m->start, mcmd);
	CHECK(!(m->start & 0xfff));
	CHECK(!strncmp(last, "tag-", 4));
	CHECK_EQ(number(last + 4), arg("modtag="));
}

static void check_signature(void)
{
	char sig[5] = { 0 };
	u32 id = 0, dma_sig[2];

	fw_read(KEY_SIGNATURE, sig, 4);
	CHECK(!strcmp(sig, "QEMU"));
	fw_read(KEY_ID, &id, 4);
	CHECK(id & 1);
	CHECK(id & 2); /* DMA */
	dma_sig[0] = inl(FW_DMA);
	dma_sig[1] = inl(FW_DMA + 4);
	CHECK(!memcmp(dma_sig, "QEMU CFG", 8));
}

/* The multiboot map and fw_cfg's etc/e820: the same RAM (exactly so on Keel). */
static void check_memory(const u32 *mbi, u64 ram, bool keel)
{
	struct e820 cfg[32], mb[32];
	u32 size, ncfg, nmb = 0;
	u16 key = fw_file("etc/e820", &size);
	u64 cfg_ram = 0, mb_ram = 0;

	CHECK(key && size && size <= sizeof(cfg) && size % sizeof(cfg[0]) == 0);
	CHECK_EQ(fw_dma(key << 16 | DMA_SELECT | DMA_READ, cfg, size), 0);
	ncfg = size / sizeof(cfg[0]);
	for (u32 off = 0; off < mbi[11] && nmb < 32; off += *(u32 *)(u64)(mbi[12] + off) + 4)
		memcpy(&mb[nmb++], (void *)(u64)(mbi[12] + off + 4), sizeof(mb[0]));
	for (u32 i = 0; i < ncfg; i++)
		cfg_ram += cfg[i].type == 1 ? cfg[i].size : 0;
	for (u32 i = 0; i < nmb; i++)
		mb_ram += mb[i].type == 1 ? mb[i].size : 0;
	gprintf("RAM %llu KiB: etc/e820 %u entries, %llu KiB usable; multiboot %u entries, %llu KiB\n",
		(unsigned long long)(ram >> 10), ncfg, (unsigned long long)(cfg_ram >> 10), nmb,
		(unsigned long long)(mb_ram >> 10));
	/* below 1 MiB the BIOS area may be kept back, and firmware may keep some pages */
	CHECK(cfg_ram <= ram && cfg_ram + (1 << 20) >= ram);
	CHECK(mb_ram <= ram && mb_ram + (4 << 20) >= ram);
	CHECK((u64)mbi[2] * 1024 + (1 << 20) <= ram);
	if (keel) {
		CHECK_EQ(nmb, ncfg);
		CHECK(!memcmp(mb, cfg, ncfg * sizeof(cfg[0])));
	}
}

static struct blob {
	char name[56];
	u8 *data;
	u32 size;
} blobs[MAX_BLOBS];
static u32 nblobs;

static struct blob *blob(const char *name)
{
	for (u32 i = 0; i < nblobs; i++)
		if (!strcmp(blobs[i].name, name))
			return &blobs[i];
	fail_at(__LINE__, "table-loader names '%s' before allocating it", name);
}

/* QEMU's hw/acpi/bios-linker-loader.c commands: allocate, add pointer, add checksum. */
static u8 *run_loader(void)
{
	u32 size, unknown = 0;
	u16 key = fw_file("etc/table-loader", &size);
	u8 *cmds = alloc(size, 64);

	CHECK(key && size && size % 128 == 0);
	CHECK_EQ(fw_dma(key << 16 | DMA_SELECT | DMA_READ, cmds, size), 0);
	for (u32 off = 0; off < size; off += 128) {
		const u8 *c = cmds + off;
		u32 cmd = *(const u32 *)c;

		if (cmd == 1) {
			struct blob *b = &blobs[nblobs++];
			u16 k;

			CHECK(nblobs <= MAX_BLOBS);
			memcpy(b->name, c + 4, 56);
			k = fw_file(b->name, &b->size);
			CHECK(k);
			b->data = alloc(b->size, *(const u32 *)(c + 60));
			CHECK_EQ(fw_dma(k << 16 | DMA_SELECT | DMA_READ, b->data, b->size), 0);
		} else if (cmd == 2) {
			struct blob *d = blob((const char *)c + 4), *s = blob((const char *)c + 60);
			u32 at = *(const u32 *)(c + 116);
			u8 n = c[120];
			u64 v = 0;

			CHECK(n && n <= 8 && at + n <= d->size);
			memcpy(&v, d->data + at, n);
			v += (u64)s->data;
			memcpy(d->data + at, &v, n);
		} else if (cmd == 3) {
			struct blob *b = blob((const char *)c + 4);
			u32 at = *(const u32 *)(c + 60), start = *(const u32 *)(c + 64),
			    len = *(const u32 *)(c + 68);

			CHECK(at < b->size && start + len <= b->size);
			b->data[at] -= sum(b->data + start, len);
		} else if (cmd) {
			unknown++;
		}
	}
	gprintf("table-loader: %u commands, %u files, %u others\n", size / 128, nblobs, unknown);
	return blob("etc/acpi/rsdp")->data;
}

static u32 madt_cpus(const u8 *t)
{
	u32 len = *(const u32 *)(t + 4), n = 0;

	for (u32 o = 44; o + 2 <= len && t[o + 1]; o += t[o + 1]) {
		const u8 *e = t + o;

		if (e[0] == 0) /* local APIC: flags at 4 */
			n += *(const u32 *)(e + 4) & 1;
		else if (e[0] == 9) /* local x2APIC: flags at 8 */
			n += *(const u32 *)(e + 8) & 1;
	}
	return n;
}

static void check_acpi(u32 cpus)
{
	const u8 *rsdp = run_loader(), *sdt;
	bool x;
	u32 len, entry, found = 0;

	CHECK(!memcmp(rsdp, "RSD PTR ", 8));
	CHECK_EQ(sum(rsdp, 20), 0);
	x = rsdp[15] >= 2 && *(const u64 *)(rsdp + 24);
	if (rsdp[15] >= 2)
		CHECK_EQ(sum(rsdp, *(const u32 *)(rsdp + 20)), 0);
	sdt = x ? (const u8 *)*(const u64 *)(rsdp + 24) :
		  (const u8 *)(u64) * (const u32 *)(rsdp + 16);
	CHECK(!memcmp(sdt, x ? "XSDT" : "RSDT", 4));
	len = *(const u32 *)(sdt + 4);
	CHECK_EQ(sum(sdt, len), 0);
	entry = x ? 8 : 4;
	for (u32 o = 36; o + entry <= len; o += entry) {
		u64 p = 0;
		const u8 *t;

		memcpy(&p, sdt + o, entry);
		t = (const u8 *)p;
		CHECK_EQ(sum(t, *(const u32 *)(t + 4)), 0);
		if (!memcmp(t, "APIC", 4)) {
			found = madt_cpus(t);
			gprintf("RSDP rev %u -> %.4s -> MADT: %u CPUs\n", rsdp[15], sdt, found);
		}
	}
	CHECK_EQ(found, cpus);
}

static bool on_keel(void)
{
	u32 a, b, c, d;

	cpuid(0x40000000, 0, &a, &b, &c, &d);
	return !memcmp(&b, "Keel", 4);
}

void test_main(void)
{
	const u32 *mbi = (const u32 *)(u64)mb_info;
	u16 nb = 0, max = 0;
	u64 ram = 0;
	u8 skip[4];
	u32 a, b, c, d, size;
	bool keel = on_keel();

	CHECK(mbi[0] & (1 << 2));
	cmdline = (const char *)(u64)mbi[4];
	check_module(mbi);
	check_signature();
	fw_read(KEY_NB_CPUS, &nb, 2);
	fw_read(KEY_MAX_CPUS, &max, 2);
	fw_read(KEY_RAM_SIZE, &ram, 8);
	gprintf("fw_cfg: %u CPUs (max %u), %llu MiB\n", nb, max, (unsigned long long)(ram >> 20));
	CHECK_EQ(nb, arg("cpus="));
	CHECK_EQ(max, nb);
	CHECK_EQ(ram, arg("ram=") << 20);
	/* Keel's vCPUs are one package's cores: CPUID counts them all (QEMU's -smp 2 is 2 sockets) */
	cpuid(0, 0, &a, &b, &c, &d);
	if (keel && a >= 0xb) {
		cpuid(0xb, 1, &a, &b, &c, &d);
		CHECK_EQ(b & 0xffff, nb);
	}
	check_memory(mbi, ram, keel);
	check_acpi(nb);
	/* a write to a read-only item fails; a skip moves the offset */
	CHECK(fw_file("etc/table-loader", &size));
	CHECK_EQ(fw_dma(DMA_WRITE, skip, 4) & DMA_ERROR, DMA_ERROR);
	fw_select(KEY_SIGNATURE);
	CHECK_EQ(fw_dma(DMA_SKIP, NULL, 2), 0);
	CHECK_EQ(fw_dma(DMA_READ, skip, 2), 0);
	CHECK(!memcmp(skip, "MU", 2));
}
