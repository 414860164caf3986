// SPDX-License-Identifier: MIT
/*
 * Host tests that a guest learns one set of CPUs and one RAM layout whichever
 * way it asks (issue 18 item 3): CPUID's topology leaves, the MADT of the
 * tables at 0xe0000 and of those fw_cfg's table loader places, fw_cfg's
 * NB_CPUS, MAX_CPUS, RAM_SIZE and etc/e820, and the multiboot information
 * (memory map, mem_lower/mem_upper, module 0), for VMs of 1, 2 and 4 vCPUs
 * with RAM below 3 GiB and reaching above 4 GiB.
 */
#include <arch/x86/cpu.h>
#include <keel/acpi.h>
#include <keel/fw_cfg.h>
#include <keel/guest.h>
#include <keel/guest_acpi.h>
#include <keel/loader.h>
#include <keel/vcpu_run.h>
#include <keel/vm.h>
#include "fake_clock.h"
#include "vmm/fake_vm.h"
#include "test.h"
#include <stdlib.h>

extern long fake_pages_live;

/* --- guest RAM: the layout guest_create() gives; only the first 16 MiB are backed here --- */
#define BACKED (16 * MiB)
static u8 *mem;

static bool in_ram(gpa_t a)
{
	u64 low = MIN(fake_vm.ram_size, GUEST_RAM_BELOW_4G);

	return a < low || (a >= 4 * GiB && a - 4 * GiB < fake_vm.ram_size - low);
}

bool vm_is_ram(struct vm *vm, gpa_t gpa)
{
	(void)vm;
	return in_ram(gpa);
}

static int copy(gpa_t gpa, void *buf, size_t len, bool write)
{
	if (gpa + len < gpa || gpa + len > BACKED) {
		CHECK(!in_ram(gpa)); /* nothing this test runs reaches past what it backs */
		return -EFAULT;
	}
	if (!write)
		memcpy(buf, mem + gpa, len);
	else if (buf)
		memcpy(mem + gpa, buf, len);
	else
		memset(mem + gpa, 0, len);
	return 0;
}

int vm_write(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	(void)vm;
	return copy(gpa, (void *)buf, len, true);
}

int vm_zero(struct vm *vm, gpa_t gpa, size_t len)
{
	(void)vm;
	return copy(gpa, NULL, len, true);
}

int vm_read_ram(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	(void)vm;
	return copy(gpa, buf, len, false);
}

int vm_write_ram(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	(void)vm;
	return copy(gpa, (void *)buf, len, true);
}

/* --- what the multiboot loader and the CPUID exit reach on a vCPU --- */
static u64 regs[VCPU_REG_COUNT];
static u64 get_reg(struct vcpu *v, enum vcpu_reg r)
{
	(void)v;
	return regs[r];
}
static void set_reg(struct vcpu *v, enum vcpu_reg r, u64 val)
{
	(void)v;
	regs[r] = val;
}
static void set_seg(struct vcpu *v, enum vcpu_seg s, const struct vcpu_segment *in)
{
	(void)v, (void)s, (void)in;
}
static const struct vcpu_ops ops = {
	.name = "fake", .get_reg = get_reg, .set_reg = set_reg, .set_seg = set_seg
};
const struct vcpu_ops *vcpu_ops = &ops;

u32 guest_insn_len(struct vcpu *v, const struct vm_exit *e, const u8 *opcode, u32 oplen)
{
	(void)v, (void)e, (void)opcode, (void)oplen;
	return 2;
}
enum exit_action vcpu_kill(struct vcpu *v, const char *fmt, ...)
{
	(void)v, (void)fmt;
	CHECK(!"vcpu_kill");
	return ACT_STOP;
}
void vcpu_inject_gp(struct vcpu *v)
{
	(void)v;
}
void vcpu_skip(struct vcpu *v, u32 len)
{
	(void)v, (void)len;
}
/* CPUID as Keel sees this machine, with every instruction the backends can give guests */
struct cpuid_regs host_cpuid(u32 leaf, u32 subleaf)
{
	return cpuid_count(leaf, subleaf);
}
void spec_cpuid(u32 leaf, u32 subleaf, struct cpuid_regs *r)
{
	(void)leaf, (void)subleaf, (void)r;
}
u32 vcpu_guest_insns = GUEST_INSN_RDTSCP | GUEST_INSN_INVPCID;

static struct cpuid_regs guest_cpuid(u32 id, u32 leaf, u32 sub)
{
	struct vcpu *v = &fake_vcpus[id];
	struct vm_exit e = { .reason = EXIT_CPUID };

	v->gpr[RAX] = leaf;
	v->gpr[RCX] = sub;
	CHECK_EQ(exit_cpuid(v, &e), ACT_RESUME);
	return (struct cpuid_regs){ (u32)v->gpr[RAX], (u32)v->gpr[RBX], (u32)v->gpr[RCX],
				    (u32)v->gpr[RDX] };
}

/* --- one VM's facts, each as one view gives them --- */
struct facts {
	u32 nr_cpus;
	u32 apic_ids[FAKE_VCPUS];
	u64 ram;    /* bytes */
	u32 nr_map; /* memory map entries */
	struct e820_entry map[GUEST_E820_MAX + 2];
};

static struct guest_platform platform(u32 n)
{
	return (struct guest_platform){ .nr_vcpus = n,
					.ioapic_base = 0xfec00000,
					.ecam_base = GUEST_ECAM_BASE,
					.mmio32_base = GUEST_MMIO32_BASE,
					.mmio32_size = GUEST_MMIO32_SIZE,
					.io_base = 0x1000,
					.io_size = 0xf000,
					.pm_timer_port = 0x608,
					.ged_gsi = 9,
					.com1_port = 0x3f8,
					.com1_gsi = 4 };
}

static u8 sum(const void *p, u32 len)
{
	u8 s = 0;

	for (u32 i = 0; i < len; i++)
		s += ((const u8 *)p)[i];
	return s;
}

/* The CPUs an RSDP leads to: its XSDT's MADT, x2APIC (type 9) and local APIC (type 0) entries. */
static void madt_cpus(const u8 *rsdp, const u8 *(*at)(u64 gpa), struct facts *f)
{
	const struct acpi_rsdp *r = (const void *)rsdp;
	const struct acpi_header *x = (const void *)at(r->xsdt);

	CHECK(!memcmp(r->signature, "RSD PTR ", 8));
	CHECK_EQ(sum(r, 20), 0);
	CHECK_EQ(sum(r, sizeof(*r)), 0);
	CHECK(!memcmp(x->signature, "XSDT", 4));
	CHECK_EQ(sum(x, x->length), 0);
	f->nr_cpus = 0;
	for (u32 off = sizeof(*x); off + 8 <= x->length; off += 8) {
		u64 p;
		const struct acpi_header *t;

		memcpy(&p, (const u8 *)x + off, 8);
		t = (const void *)at(p);
		CHECK_EQ(sum(t, t->length), 0);
		if (memcmp(t->signature, "APIC", 4))
			continue;
		for (u32 o = 44; o + 2 <= t->length; o += ((const u8 *)t)[o + 1]) {
			const u8 *e = (const u8 *)t + o;
			u32 id, flags;

			if (e[0] != 9 && e[0] != 0)
				continue;
			id = e[0] == 9 ? *(const u32 *)(e + 4) : e[3];
			flags = e[0] == 9 ? *(const u32 *)(e + 8) : *(const u32 *)(e + 4);
			if ((flags & 1) && f->nr_cpus < FAKE_VCPUS)
				f->apic_ids[f->nr_cpus] = id;
			f->nr_cpus += flags & 1;
		}
	}
}

static const u8 *guest_at(u64 gpa)
{
	CHECK(gpa < BACKED);
	return mem + gpa;
}

/* --- fw_cfg, read as firmware does: ports for the items, a table loader of our own --- */
static void cfg_read(u16 key, void *buf, u32 len)
{
	fake_out(&fake_vcpus[0], FW_CFG_PORT_SEL, 2, key);
	for (u32 i = 0; i < len; i++)
		((u8 *)buf)[i] = (u8)fake_in(&fake_vcpus[0], FW_CFG_PORT_DATA, 1);
}

static u16 cfg_file(const char *name, u32 *size)
{
	u32 n;
	u8 e[64];

	cfg_read(FW_CFG_FILE_DIR, &n, 4);
	n = __builtin_bswap32(n);
	for (u32 i = 0; i < n; i++) {
		for (u32 j = 0; j < 64; j++)
			e[j] = (u8)fake_in(&fake_vcpus[0], FW_CFG_PORT_DATA, 1);
		if (!strcmp((char *)e + 8, name)) {
			*size = __builtin_bswap32(*(u32 *)e);
			return (u16)(e[4] << 8 | e[5]);
		}
	}
	CHECK(!"file missing");
	return 0;
}

/* Loaded blobs live in host memory; "addresses" are their host pointers. */
static struct blob {
	char name[56];
	u8 *data;
} blobs[4];

static struct blob *blob(const char *name)
{
	for (u32 i = 0; i < ARRAY_SIZE(blobs); i++)
		if (blobs[i].data && !strcmp(blobs[i].name, name))
			return &blobs[i];
	CHECK(!"a loader command names a file not allocated");
	return &blobs[0];
}

static const u8 *host_at(u64 p)
{
	return (const u8 *)(uintptr_t)p;
}

/* bios-linker-loader.c's commands, carried out; returns the RSDP. */
static const u8 *run_loader(void)
{
	u32 size, nb = 0;
	u16 key = cfg_file("etc/table-loader", &size);
	u8 *cmds = malloc(size), *rsdp = NULL;

	cfg_read(key, cmds, size);
	CHECK_EQ(size % 128, 0);
	for (u32 off = 0; off < size; off += 128) {
		const u8 *c = cmds + off;
		u32 cmd = *(const u32 *)c;

		if (cmd == 1) { /* ALLOCATE file, align, zone */
			u32 len, align = *(const u32 *)(c + 60);
			u16 k = cfg_file((const char *)c + 4, &len);

			CHECK(nb < ARRAY_SIZE(blobs) && align && !(align & (align - 1)));
			strcpy(blobs[nb].name, (const char *)c + 4);
			blobs[nb].data = aligned_alloc(align < 16 ? 16 : align, ALIGN_UP(len, 64));
			cfg_read(k, blobs[nb].data, len);
			if (!strcmp(blobs[nb].name, "etc/acpi/rsdp"))
				rsdp = blobs[nb].data;
			nb++;
		} else if (cmd == 2) { /* ADD_POINTER dest, src, offset, size */
			struct blob *d = blob((const char *)c + 4), *s = blob((const char *)c + 60);
			u64 v = 0, a = (u64)(uintptr_t)s->data;
			u32 at = *(const u32 *)(c + 116);
			u8 sz = c[120];

			memcpy(&v, d->data + at, sz);
			v += a;
			memcpy(d->data + at, &v, sz);
		} else if (cmd == 3) { /* ADD_CHECKSUM file, offset, start, length */
			struct blob *b = blob((const char *)c + 4);
			u32 at = *(const u32 *)(c + 60), start = *(const u32 *)(c + 64);

			/*
			 * OVMF stores the checksum of the range, the field included
			 * (QemuFwCfgAcpi.c); SeaBIOS subtracts it from the field. Both
			 * are right only with the field 0 in the blob, as QEMU has it.
			 */
			CHECK_EQ(b->data[at], 0);
			b->data[at] = (u8)-sum(b->data + start, *(const u32 *)(c + 68));
		} else {
			CHECK(!"unknown loader command");
		}
	}
	free(cmds);
	CHECK(rsdp != NULL);
	return rsdp;
}

static void free_blobs(void)
{
	for (u32 i = 0; i < ARRAY_SIZE(blobs); i++)
		free(blobs[i].data);
	memset(blobs, 0, sizeof(blobs));
}

static void fw_cfg_facts(u32 n, struct facts *f)
{
	struct guest_platform p = platform(n);
	u16 nb = 0, max = 0, key;
	u32 size;

	CHECK_EQ(guest_fw_cfg_attach(&fake_vm, &p), 0);
	cfg_read(FW_CFG_NB_CPUS, &nb, 2);
	cfg_read(FW_CFG_MAX_CPUS, &max, 2);
	cfg_read(FW_CFG_RAM_SIZE, &f->ram, 8);
	CHECK_EQ(nb, max); /* every CPU present at boot; APIC IDs 0..n-1 */
	key = cfg_file("etc/e820", &size);
	cfg_read(key, f->map, size);
	CHECK_EQ(size % sizeof(struct e820_entry), 0);
	f->nr_map = size / sizeof(struct e820_entry);
	madt_cpus(run_loader(), host_at, f);
	CHECK_EQ(f->nr_cpus, nb);
	free_blobs();
}

static void acpi_facts(u32 n, struct facts *f)
{
	struct guest_platform p = platform(n);
	u8 buf[8192];
	int len = guest_acpi_build(&p, GUEST_ACPI_BASE, buf, sizeof(buf));

	CHECK(len > 0);
	memcpy(mem + GUEST_ACPI_BASE, buf, (size_t)len);
	madt_cpus(mem + GUEST_ACPI_BASE, guest_at, f);
}

static void cpuid_facts(u32 n, struct facts *f)
{
	u32 shift = guest_cpuid(0, 0xb, 1).eax;

	f->nr_cpus = guest_cpuid(0, 0xb, 1).ebx;
	CHECK(BIT(shift) >= n && (n <= 1 || BIT(shift - 1) < n)); /* just enough ID bits */
	CHECK_EQ(guest_cpuid(0, 0x80000008, 0).ecx & 0xff, n - 1);
	for (u32 i = 0; i < n; i++) {
		f->apic_ids[i] = guest_cpuid(i, 0xb, 0).edx;
		CHECK_EQ(guest_cpuid(i, 1, 0).ebx >> 24, f->apic_ids[i]);
		CHECK_EQ(guest_cpuid(i, 0x1f, 1).edx, f->apic_ids[i]);
	}
}

/* A 4 KiB multiboot kernel at 1 MiB (header with address fields, 64 KiB of bss). */
static void multiboot_facts(struct facts *f)
{
	static u32 image[1024];
	static const u8 module[5000] = { 1, 2, 3 };
	struct multiboot_module mod = { module, sizeof(module), "mod.bin tag=42" };
	char err[LOADER_ERR_MAX];
	u32 *mbi = (u32 *)(mem + 0x9000), *m;

	image[0] = 0x1badb002;
	image[1] = 0x00010003; /* page-aligned modules, memory info, address fields */
	image[2] = -(image[0] + image[1]);
	image[3] = image[4] = 0x100000; /* header_addr, load_addr */
	image[5] = 0;			/* load_end: the whole file */
	image[6] = 0x100000 + 0x11000;	/* bss_end */
	image[7] = 0x100020;
	CHECK_EQ(multiboot_load(&fake_vm, (u8 *)image, sizeof(image), "k", &mod, err), 0);
	CHECK_EQ(mbi[0] & 0x4d, 0x4d); /* mem, cmdline, mods, mmap */
	f->nr_map = 0;
	for (u32 off = 0; off < mbi[11]; off += *(u32 *)(mem + mbi[12] + off) + 4) {
		const u8 *e = mem + mbi[12] + off;

		CHECK(f->nr_map < ARRAY_SIZE(f->map));
		memcpy(&f->map[f->nr_map++], e + 4, sizeof(struct e820_entry));
	}
	/* mem_lower and mem_upper: the RAM below 640 KiB and from 1 MiB to the first hole */
	CHECK_EQ((u64)mbi[1] * KiB, f->map[0].size);
	for (u32 i = 0; i < f->nr_map; i++)
		if (f->map[i].addr == MiB)
			CHECK_EQ((u64)mbi[2] * KiB, f->map[i].size);
	/* module 0: after the kernel's bss, page-aligned, its bytes and command line */
	CHECK_EQ(mbi[5], 1);
	m = (u32 *)(mem + mbi[6]);
	CHECK(m[0] >= 0x111000 && !(m[0] & 0xfff));
	CHECK_EQ(m[1] - m[0], sizeof(module));
	CHECK(!memcmp(mem + m[0], module, sizeof(module)));
	CHECK(!strcmp((char *)mem + m[2], "mod.bin tag=42"));
	CHECK(!strcmp((char *)mem + mbi[4], "k"));
}

/* Every RAM entry lies in the VM's RAM, in order; all its RAM above 1 MiB is usable RAM there. */
static void check_map(const struct facts *f, u64 ram)
{
	u64 above_1m = 0;

	for (u32 i = 0; i < f->nr_map; i++) {
		const struct e820_entry *e = &f->map[i];

		if (e->type == E820_RAM)
			CHECK(in_ram(e->addr) && in_ram(e->addr + e->size - 1));
		if (e->type == E820_RAM && e->addr >= MiB)
			above_1m += e->size;
		if (i)
			CHECK(e->addr >= f->map[i - 1].addr + f->map[i - 1].size);
	}
	CHECK_EQ(above_1m, ram - MiB);
}

static void same(const struct facts *a, const struct facts *b)
{
	CHECK_EQ(a->nr_cpus, b->nr_cpus);
	for (u32 i = 0; i < a->nr_cpus && i < FAKE_VCPUS; i++)
		CHECK_EQ(a->apic_ids[i], b->apic_ids[i]);
}

TEST(every_view_names_the_same_cpus_and_ram)
{
	static const u64 rams[] = { 32 * MiB, 3 * GiB, 3 * GiB + 512 * MiB, 6 * GiB };
	static const u32 cpus[] = { 1, 2, 4 };

	mem = calloc(1, BACKED);
	fake_tsc_hz = 2000000000ULL;
	for (u32 r = 0; r < ARRAY_SIZE(rams); r++) {
		for (u32 c = 0; c < ARRAY_SIZE(cpus); c++) {
			struct facts cpuid = { 0 }, acpi = { 0 }, cfg = { 0 }, mb = { 0 };
			struct e820_entry e820[GUEST_E820_MAX];
			u32 n = cpus[c];

			fake_vm_reset(n);
			fake_vm.ram_size = rams[r];
			memset(mem, 0, BACKED);
			cpuid_facts(n, &cpuid);
			acpi_facts(n, &acpi);
			fw_cfg_facts(n, &cfg);
			multiboot_facts(&mb);
			CHECK_EQ(cpuid.nr_cpus, n);
			same(&cpuid, &acpi);
			same(&cpuid, &cfg);
			CHECK_EQ(cfg.ram, rams[r]);
			check_map(&cfg, rams[r]);
			check_map(&mb, rams[r]);
			CHECK_EQ(mb.nr_map, cfg.nr_map);
			CHECK(!memcmp(mb.map, cfg.map, cfg.nr_map * sizeof(cfg.map[0])));
			CHECK_EQ(guest_e820(rams[r], e820), cfg.nr_map);
			CHECK(!memcmp(e820, cfg.map, cfg.nr_map * sizeof(e820[0])));
			fake_vm_free();
			CHECK_EQ(fake_pages_live, 0);
			if (test_failed_checks) {
				fprintf(stderr, "  with %u vCPUs, %llu MiB\n", n,
					(unsigned long long)(rams[r] / MiB));
				free(mem);
				return;
			}
		}
	}
	free(mem);
}

/*
 * A kernel linked below 1 MiB across the usual information page (a real-mode
 * test kernel at 32 KiB) keeps every byte: the information and its strings go
 * to the first page after the kernel and its module, and EBX says where.
 */
TEST(multiboot_information_never_overwrites_the_kernel)
{
	static u32 image[0x3000 / 4];
	static const u8 module[100] = { 7 };
	struct multiboot_module mod = { module, sizeof(module), "low.mod" };
	char err[LOADER_ERR_MAX];
	u32 *mbi, *m;
	u64 at;

	mem = calloc(1, BACKED);
	fake_vm_reset(1);
	fake_vm.ram_size = 32 * MiB;
	for (u32 i = 8; i < ARRAY_SIZE(image); i++)
		image[i] = 0x90909090 ^ i;
	image[0] = 0x1badb002;
	image[1] = 0x00010002; /* memory info, address fields */
	image[2] = -(image[0] + image[1]);
	image[3] = image[4] = 0x8000; /* header_addr, load_addr: 0x8000-0xafff */
	image[5] = 0;
	image[6] = 0xb800; /* bss_end */
	image[7] = 0x8020;
	CHECK_EQ(multiboot_load(&fake_vm, (u8 *)image, sizeof(image), "low", &mod, err), 0);
	CHECK(!memcmp(mem + 0x8000, image, sizeof(image)));
	CHECK(mem[0xb000] == 0); /* its bss */
	CHECK(!memcmp(mem + 0xc000, module, sizeof(module)));
	at = fake_vm.vcpus[0]->gpr[RBX];
	CHECK_EQ(at, 0xd000); /* the page after the module */
	mbi = (u32 *)(mem + at);
	CHECK(!strcmp((char *)mem + mbi[4], "low"));
	CHECK_EQ(mbi[5], 1);
	m = (u32 *)(mem + mbi[6]);
	CHECK_EQ(m[0], 0xc000);
	CHECK(!strcmp((char *)mem + m[2], "low.mod"));
	CHECK(mbi[4] >= at && mbi[12] >= at && m[2] < at + 0x1000);
	/* a kernel at 1 MiB leaves the usual page at 0x9000 */
	memset(mem, 0, BACKED);
	image[3] = image[4] = 0x100000;
	image[6] = 0x104000;
	image[7] = 0x100020;
	CHECK_EQ(multiboot_load(&fake_vm, (u8 *)image, sizeof(image), "high", NULL, err), 0);
	CHECK_EQ(fake_vm.vcpus[0]->gpr[RBX], 0x9000);
	CHECK(!strcmp((char *)mem + ((u32 *)(mem + 0x9000))[4], "high"));
	fake_vm_free();
	free(mem);
}

/*
 * The firmware flavor (issue 21): low RAM ends below the ECAM at 0xB0000000,
 * or at 2 GiB once RAM reaches it, the rest from 4 GiB on (QEMU's Q35 rule);
 * etc/e820 has only those RAM entries, as OVMF's MemDetect reads it.
 */
TEST(firmware_flavor_ram_split_and_e820)
{
	static const struct {
		u64 ram, low;
	} cases[] = {
		{ 128 * MiB, 128 * MiB },
		{ 256 * MiB, 256 * MiB },
		{ 0xb0000000ULL - 2 * MiB, 0xb0000000ULL - 2 * MiB },
		{ 0xb0000000ULL, 2 * GiB },
		{ 6 * GiB, 2 * GiB },
	};

	mem = calloc(1, BACKED);
	for (u32 i = 0; i < ARRAY_SIZE(cases); i++) {
		struct e820_entry e[GUEST_E820_MAX];
		struct facts cfg = { 0 };
		u64 ram = cases[i].ram, low = cases[i].low;
		u32 n = guest_fw_e820(ram, e);

		CHECK_EQ(guest_low_ram(ram, true), low);
		CHECK(guest_low_ram(ram, true) <= GUEST_FW_ECAM_BASE);
		CHECK_EQ(n, ram > low ? 2 : 1);
		CHECK(e[0].addr == 0 && e[0].size == low && e[0].type == E820_RAM);
		if (n == 2)
			CHECK(e[1].addr == 4 * GiB && e[1].size == ram - low &&
			      e[1].type == E820_RAM);
		fake_vm_reset(1);
		fake_vm.ram_size = ram;
		fake_vm.firmware = true;
		fw_cfg_facts(1, &cfg);
		CHECK_EQ(cfg.nr_map, n);
		CHECK(!memcmp(cfg.map, e, n * sizeof(e[0])));
		fake_vm_free();
		CHECK_EQ(fake_pages_live, 0);
	}
	CHECK_EQ(guest_low_ram(6 * GiB, false), 3 * GiB); /* direct-kernel guests as before */
	free(mem);
}
