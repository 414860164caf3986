// SPDX-License-Identifier: MIT
/*
 * Host tests of fw_cfg: the signature, feature and file-directory items, the
 * data port, and the DMA interface against a guest whose RAM is two ranges
 * with a device page between, including hostile and random descriptors:
 * no byte outside the transfer's destination and its control word changes.
 */
#include <keel/fw_cfg.h>
#include <keel/vm.h>
#include "vmm/fake_vm.h"
#include "test.h"
#include <stdlib.h>

extern long fake_pages_live;

/* Guest RAM: [0, 64 KiB) and [4 GiB, 4 GiB + 64 KiB); a device page at 0xfe000000 is not RAM. */
#define LOW_SIZE (64 * KiB)
#define HIGH_BASE (4 * GiB)
#define HIGH_SIZE (64 * KiB)
#define DEVICE_PAGE 0xfe000000ULL
static u8 low[LOW_SIZE], high[HIGH_SIZE];
static u32 ram_calls;

static u8 *ram_at(gpa_t gpa, size_t len)
{
	if (gpa + len < gpa)
		return NULL;
	if (gpa + len <= LOW_SIZE)
		return low + gpa;
	if (gpa >= HIGH_BASE && gpa + len <= HIGH_BASE + HIGH_SIZE)
		return high + (gpa - HIGH_BASE);
	return NULL; /* the device page, the hole, beyond RAM, or across the hole */
}

/* As vmm/vm_gpa.c: the VM's own RAM, all of the range or nothing. */
int vm_read_ram(struct vm *vm, gpa_t gpa, void *buf, size_t len)
{
	u8 *p = ram_at(gpa, len);

	(void)vm;
	ram_calls++;
	if (!p)
		return -EFAULT;
	memcpy(buf, p, len);
	return 0;
}

int vm_write_ram(struct vm *vm, gpa_t gpa, const void *buf, size_t len)
{
	u8 *p = ram_at(gpa, len);

	(void)vm;
	ram_calls++;
	if (!p)
		return -EFAULT;
	if (buf)
		memcpy(p, buf, len);
	else
		memset(p, 0, len);
	return 0;
}

static struct fw_cfg *f;
static struct vcpu *v;

static void setup(void)
{
	fake_vm_reset(1);
	v = &fake_vcpus[0];
	memset(low, 0, sizeof(low));
	memset(high, 0, sizeof(high));
	f = fw_cfg_create(&fake_vm);
	CHECK(f != NULL);
}

static void teardown(void)
{
	fake_vm_free();
	CHECK_EQ(fake_pages_live, 0);
}

static void select_key(u16 key)
{
	fake_out(v, FW_CFG_PORT_SEL, 2, key);
}

static void read_data(void *buf, u32 len)
{
	for (u32 i = 0; i < len; i++)
		((u8 *)buf)[i] = (u8)fake_in(v, FW_CFG_PORT_DATA, 1);
}

static u32 be32(const void *p)
{
	u32 x;

	memcpy(&x, p, 4);
	return __builtin_bswap32(x);
}

struct dma {
	u32 control, length;
	u64 address;
} __attribute__((packed));

/* Writes a descriptor at gpa (it must be RAM here) and starts it as a guest does. */
static u32 dma(gpa_t gpa, u32 control, u32 length, u64 address)
{
	struct dma d = { __builtin_bswap32(control), __builtin_bswap32(length),
			 __builtin_bswap64(address) };
	u8 *p = ram_at(gpa, sizeof(d));

	memcpy(p, &d, sizeof(d));
	fake_out(v, FW_CFG_PORT_DMA, 4, __builtin_bswap32((u32)(gpa >> 32)));
	fake_out(v, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32((u32)gpa));
	return be32(p);
}

TEST(signature_features_and_dma_register)
{
	char sig[6] = { 0 };
	u32 id = 0;

	setup();
	select_key(FW_CFG_SIGNATURE);
	read_data(sig, 5);
	CHECK(!memcmp(sig, "QEMU\0", 5)); /* past the end: zeroes */
	select_key(FW_CFG_ID);
	read_data(&id, 4);
	CHECK_EQ(id, FW_CFG_ID_TRADITIONAL | FW_CFG_ID_DMA);
	/* the data port also answers at 0x510 for byte reads (QEMU's combined region) */
	select_key(FW_CFG_SIGNATURE);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_SEL, 1), 'Q');
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 'E');
	/* the DMA address register reads "QEMU CFG", big-endian, at any width */
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DMA, 4), 0x554d4551);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DMA + 4, 4), 0x47464320);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DMA + 7, 1), 'G');
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DMA + 6, 4), 0xffff4746); /* past the register: floats */
	/* an unknown key reads zeroes; a byte write to the data port changes nothing */
	select_key(0x0012);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 0);
	select_key(FW_CFG_SIGNATURE);
	fake_out(v, FW_CFG_PORT_DATA, 1, 'X');
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 'Q');
	/* bit 14 (write) is no different item; bit 15 (x86-specific) names none */
	select_key(0x4000);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 'Q');
	select_key(0x8000);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 0);
	teardown();
}

TEST(file_directory_lists_files_in_name_order)
{
	u8 dir[4 + 3 * 64];
	char got[8] = { 0 };

	setup();
	CHECK_EQ(fw_cfg_add_file(f, "etc/b", "bbbb", 4), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/a", "a", 1), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/c", "cc", 2), 0);
	CHECK_EQ(fw_cfg_add_file(f, "etc/a", "x", 1), -EEXIST);
	CHECK_EQ(fw_cfg_add(f, FW_CFG_SIGNATURE, "x", 1), -EINVAL); /* taken */
	CHECK_EQ(fw_cfg_add(f, FW_CFG_FILE_DIR, "x", 1), -EINVAL);
	CHECK_EQ(fw_cfg_add(f, FW_CFG_FILE_FIRST, "x", 1), -EINVAL);
	select_key(FW_CFG_FILE_DIR);
	read_data(dir, sizeof(dir));
	CHECK_EQ(be32(dir), 3);
	for (u32 i = 0; i < 3; i++) {
		const u8 *e = dir + 4 + i * 64;
		static const char *const names[] = { "etc/a", "etc/b", "etc/c" };
		static const u32 sizes[] = { 1, 4, 2 };

		CHECK_EQ(be32(e), sizes[i]);
		CHECK_EQ(e[4] << 8 | e[5], FW_CFG_FILE_FIRST + i);
		CHECK(!strcmp((const char *)e + 8, names[i]));
	}
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), 0); /* the directory ends there */
	select_key(FW_CFG_FILE_FIRST + 1);
	read_data(got, 5);
	CHECK(!strcmp(got, "bbbb"));
	teardown();
}

TEST(dma_reads_skips_and_refuses_writes)
{
	static const char text[] = "0123456789abcdef";

	setup();
	CHECK_EQ(fw_cfg_add_file(f, "opt/t", text, 16), 0);
	memset(low + 0x2000, 0xaa, 64);
	/* select and read 10 bytes */
	CHECK_EQ(dma(0x1000, (FW_CFG_FILE_FIRST << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 10,
		     0x2000),
		 0);
	CHECK(!memcmp(low + 0x2000, "0123456789", 10));
	CHECK_EQ(low[0x200a], 0xaa);
	/* skip 2, then read 8: 4 bytes of the item and 4 zeroes past its end */
	CHECK_EQ(dma(0x1000, FW_CFG_DMA_SKIP, 2, 0), 0);
	CHECK_EQ(dma(0x1000, FW_CFG_DMA_READ, 8, 0x2010), 0);
	CHECK(!memcmp(low + 0x2010, "cdef\0\0\0\0", 8));
	/* writes: no item is writable; the error bit, nothing changed */
	select_key(FW_CFG_FILE_FIRST);
	CHECK_EQ(dma(0x1000, FW_CFG_DMA_WRITE, 4, 0x2000), FW_CFG_DMA_ERROR);
	select_key(FW_CFG_FILE_FIRST);
	CHECK_EQ(fake_in(v, FW_CFG_PORT_DATA, 1), '0');
	/* no operation bits: nothing moves, success */
	CHECK_EQ(dma(0x1000, 0, 100, 0x3000), 0);
	CHECK_EQ(low[0x3000], 0);
	/* the high half: a transfer into RAM above 4 GiB, descriptor there too */
	CHECK_EQ(dma(HIGH_BASE + 0x100,
		     (FW_CFG_SIGNATURE << 16) | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ, 4,
		     HIGH_BASE + 0x200),
		 0);
	CHECK(!memcmp(high + 0x200, "QEMU", 4));
	/* ... and the register is zero again after an operation: a 32-bit one stays low */
	fake_out(v, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32(0x1000));
	CHECK_EQ(be32(low + 0x1000), 0);
	teardown();
}

/* Whether RAM at base changed only in the descriptor (0x1000, 16 bytes) and in [addr, addr + len). */
static bool only_changed(const u8 *before, const u8 *now, u64 size, u64 base, u64 addr, u64 len)
{
	if (!memcmp(before, now, size))
		return true;
	for (u64 i = 0; i < size; i++) {
		u64 gpa = base + i;

		if (before[i] != now[i] && !(gpa >= 0x1000 && gpa < 0x1010) &&
		    !(gpa >= addr && gpa - addr < len))
			return false;
	}
	return true;
}

/* A guest's DMA must reach its own RAM and nothing else (issue 18 item 2). */
TEST(dma_outside_ram_changes_nothing)
{
	static const struct {
		u64 addr;
		u32 len;
	} bad[] = {
		{ LOW_SIZE - 8, 16 },		  /* across the end of low RAM */
		{ DEVICE_PAGE, 4 },		  /* a device page */
		{ 0xffffffffffffff00ULL, 0x200 }, /* wraps the address space */
		{ 0x2000, 0xffffffff },		  /* longer than RAM */
		{ HIGH_BASE + HIGH_SIZE - 1, 2 },
		{ 64 * GiB, 1 },
	};
	static u8 before_low[LOW_SIZE], before_high[HIGH_SIZE];

	setup();
	CHECK_EQ(fw_cfg_add_file(f, "opt/big", low, 4096), 0);
	for (u32 i = 0; i < ARRAY_SIZE(bad); i++) {
		for (u32 key = FW_CFG_SIGNATURE; key <= FW_CFG_FILE_FIRST;
		     key += FW_CFG_FILE_FIRST) {
			dma(0x1000, 0, 0, 0); /* the descriptor in place first */
			memcpy(before_low, low, LOW_SIZE);
			memcpy(before_high, high, HIGH_SIZE);
			CHECK_EQ(dma(0x1000, key << 16 | FW_CFG_DMA_SELECT | FW_CFG_DMA_READ,
				     bad[i].len, bad[i].addr),
				 FW_CFG_DMA_ERROR);
			CHECK(only_changed(before_low, low, LOW_SIZE, 0, bad[i].addr, bad[i].len));
			CHECK(only_changed(before_high, high, HIGH_SIZE, HIGH_BASE, bad[i].addr,
					   bad[i].len));
		}
	}
	/* a descriptor outside RAM: nothing read or written but the attempts */
	memcpy(before_low, low, LOW_SIZE);
	ram_calls = 0;
	fake_out(v, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32((u32)DEVICE_PAGE));
	CHECK_EQ(ram_calls, 2);
	CHECK(!memcmp(before_low, low, LOW_SIZE));
	/* one that straddles the end of RAM: only its control word, which is RAM, says error */
	fake_out(v, FW_CFG_PORT_DMA + 4, 4, __builtin_bswap32(LOW_SIZE - 8));
	CHECK_EQ(be32(low + LOW_SIZE - 8), FW_CFG_DMA_ERROR);
	CHECK(!memcmp(before_low, low, LOW_SIZE - 8));
	CHECK(!memcmp(before_low + LOW_SIZE - 4, low + LOW_SIZE - 4, 4));
	teardown();
}

/* Random descriptors: the result is 0 or the error bit; RAM changes only in the destination. */
TEST(random_dma_touches_only_its_destination)
{
	static u8 before[LOW_SIZE];
	static const char blob[] = "fw_cfg fuzz blob: some bytes to read";
	u32 seed = 12345;

	setup();
	CHECK_EQ(fw_cfg_add_file(f, "opt/fuzz", blob, sizeof(blob)), 0);
	for (int i = 0; i < 5000; i++) {
		u32 r[4];
		u64 addr;
		u32 len, control, got, key;

		for (u32 j = 0; j < 4; j++)
			r[j] = seed = seed * 1103515245 + 12345;
		key = r[0] % 4 == 0 ? r[1] & 0xffff : (r[1] & 0x23);
		control = (key << 16) | (r[2] & 0x1f);
		len = r[3] % 8 == 0 ? r[3] : r[3] % 0x300;
		switch (r[2] >> 28) {
		case 0:
			addr = DEVICE_PAGE + (r[1] & 0xfff);
			break;
		case 1:
			addr = LOW_SIZE - (r[1] & 0x3ff);
			break;
		case 2:
			addr = ~0ULL - (r[1] & 0x3ff);
			break;
		default:
			addr = 0x2000 + (r[1] % 0xc000);
		}
		memcpy(before, low, LOW_SIZE);
		got = dma(0x1000, control, len, addr);
		CHECK(got == 0 || got == FW_CFG_DMA_ERROR);
		CHECK(only_changed(before, low, LOW_SIZE, 0, addr,
				   (control & FW_CFG_DMA_READ) ? len : 0));
		if (test_failed_checks)
			break;
	}
	teardown();
}

TEST(out_of_memory_frees_what_it_took)
{
	extern long fake_pages_fail_after;

	for (long n = 0; n < 3; n++) { /* the device, its signature, its features */
		fake_vm_reset(1);
		fake_pages_fail_after = n;
		f = fw_cfg_create(&fake_vm);
		fake_pages_fail_after = -1;
		CHECK(f == NULL);
		fake_vm_free();
		CHECK_EQ(fake_pages_live, 0);
	}
	setup();
	fake_pages_fail_after = 0;
	CHECK_EQ(fw_cfg_add_file(f, "opt/x", "x", 1), -ENOMEM);
	fake_pages_fail_after = -1;
	CHECK_EQ(fw_cfg_add_file(f, "opt/x", "x", 1), 0); /* the failed one left no trace */
	teardown();
}
