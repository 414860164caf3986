// SPDX-License-Identifier: MIT
/* A firmware VM's flash in Keel: store writes go to keel-dm, and its answers change the pages and map. */
#include <keel/dm.h>
#include <keel/flash.h>
#include <keel/page_alloc.h>
#include <stdlib.h>
#include "fake_vm.h"
#include "test.h"

#define TOP 0x100000000ULL
#define CODE (4 * 4096)
#define VARS (2 * 4096)
#define VARS_AT (TOP - CODE - VARS)

/* --- stand-ins: the guest-physical map and keel-dm --- */
static struct mapping {
	gpa_t gpa;
	hpa_t hpa;
	u64 size;
	u32 perms;
} maps[8];
static u32 nr_maps, unmaps;
static struct dm_access asked; /* the last request to keel-dm */
static u32 dm_calls, answer_flash;
static u64 answer_data;

int vm_map(struct vm *vm, gpa_t gpa, hpa_t hpa, u64 size, u32 perms)
{
	(void)vm;
	CHECK(nr_maps < 8);
	maps[nr_maps++] = (struct mapping){ gpa, hpa, size, perms };
	return 0;
}

int vm_unmap(struct vm *vm, gpa_t gpa, u64 size)
{
	(void)vm;
	for (u32 i = 0; i < nr_maps; i++)
		if (maps[i].gpa == gpa && maps[i].size == size) {
			maps[i] = maps[--nr_maps];
			unmaps++;
			return 0;
		}
	CHECK(!"unmapping what is not mapped");
	return -EINVAL;
}

int dm_access(struct vcpu *v, u32 type, u64 addr, u8 size, bool write, u64 *val)
{
	asked = (struct dm_access){ type, size, write, addr, write ? *val : 0 };
	dm_calls++;
	v->dm.flash = answer_flash;
	if (!write)
		*val = answer_data;
	return 0;
}

static bool mapped(gpa_t gpa)
{
	for (u32 i = 0; i < nr_maps; i++)
		if (gpa >= maps[i].gpa && gpa - maps[i].gpa < maps[i].size)
			return !(maps[i].perms & PT_W);
	return false;
}

static u8 *code, *vars;

static void setup(bool vars_dm)
{
	fake_vm_reset(1);
	nr_maps = unmaps = dm_calls = answer_flash = 0;
	code = page_alloc_zeroed(CODE / 4096);
	vars = page_alloc_zeroed(VARS / 4096);
	memset(vars, 0x5a, VARS);
	CHECK_EQ(flash_attach(&fake_vm, code, CODE / 4096, vars, VARS / 4096, vars_dm), 0);
	CHECK(mapped(VARS_AT) && mapped(TOP - 1));
}

TEST(flash_without_keel_dm_drops_writes)
{
	setup(false);
	fake_mmio_write(&fake_vcpus[0], VARS_AT + 0x10, 1, 0x50);
	fake_mmio_write(&fake_vcpus[0], TOP - 16, 1, 0x00);
	CHECK_EQ(dm_calls, 0);
	CHECK_EQ(vars[0x10], 0x5a);
	CHECK(mapped(VARS_AT));
	fake_vm_free();
}

TEST(flash_store_writes_go_to_keel_dm_and_its_actions_apply)
{
	struct vcpu *v = &fake_vcpus[0];

	setup(true);
	/* 0x10: keel-dm says command mode, so the store leaves the map and reads trap */
	answer_flash = KCTL_FLASH_COMMAND;
	fake_mmio_write(v, VARS_AT + 0x123, 1, 0x10);
	CHECK_EQ(asked.addr, VARS_AT + 0x123);
	CHECK(asked.write && asked.size == 1 && asked.data == 0x10);
	CHECK(!mapped(VARS_AT));
	CHECK(mapped(TOP - 1)); /* the code stays */
	/* the data byte: programmed into Keel's copy */
	answer_flash = KCTL_FLASH_PROGRAM | KCTL_FLASH_COMMAND;
	fake_mmio_write(v, VARS_AT + 0x123, 1, 0xa7);
	CHECK_EQ(vars[0x123], 0xa7);
	CHECK_EQ(vars[0x122], 0x5a);
	/* a read while unmapped is keel-dm's status */
	answer_flash = 0, answer_data = 0x80;
	CHECK_EQ(fake_mmio_read(v, VARS_AT + 0x123, 1), 0x80);
	CHECK(!asked.write);
	/* a read's answer changes no byte, even if keel-dm says so */
	answer_flash = KCTL_FLASH_PROGRAM | KCTL_FLASH_ERASE | KCTL_FLASH_COMMAND;
	CHECK_EQ(fake_mmio_read(v, VARS_AT + 0x123, 1), 0x80);
	CHECK_EQ(vars[0x123], 0xa7);
	CHECK_EQ(vars[0], 0x5a);
	/* erase of the second block, then read array: mapped again, once */
	answer_flash = KCTL_FLASH_ERASE | KCTL_FLASH_COMMAND;
	fake_mmio_write(v, VARS_AT + 4096 + 9, 1, 0xd0);
	for (u32 i = 0; i < 4096; i++)
		if (vars[4096 + i] != 0xff)
			CHECK_EQ(vars[4096 + i], 0xff);
	CHECK_EQ(vars[4095], 0x5a);
	answer_flash = KCTL_FLASH_ARRAY;
	fake_mmio_write(v, VARS_AT + 4096 + 9, 1, 0xff);
	CHECK(mapped(VARS_AT));
	CHECK_EQ(unmaps, 1);
	fake_mmio_write(v, VARS_AT, 1, 0xff);
	CHECK_EQ(nr_maps, 2); /* not mapped twice */
	/* code writes never reach keel-dm; wider store accesses are dropped, not forwarded */
	dm_calls = 0;
	fake_mmio_write(v, TOP - 0x100, 1, 0x10);
	fake_mmio_write(v, VARS_AT + 8, 4, 0x10101010);
	CHECK_EQ(dm_calls, 0);
	fake_vm_free();
}

TEST(flash_reset_maps_the_store_back)
{
	struct vcpu *v = &fake_vcpus[0];

	setup(true);
	answer_flash = KCTL_FLASH_PROGRAM | KCTL_FLASH_COMMAND; /* a store left in status mode */
	fake_mmio_write(v, VARS_AT + 4, 1, 0x10);
	CHECK(!mapped(VARS_AT));
	flash_reset(v->vm); /* 0xCF9: the firmware's PEI reads the store as memory again */
	CHECK(mapped(VARS_AT));
	CHECK_EQ(nr_maps, 2);
	flash_reset(v->vm); /* mapped already: nothing */
	CHECK_EQ(nr_maps, 2);
	fake_vm_free();
}
