// SPDX-License-Identifier: MIT
/* keel-dm's CFI flash state machine under the byte sequences OVMF's QemuFlash.c writes. */
#include "test.h"
#include "tools/keel-dm/flash/cfi.h"
#include <string.h>

/* A two-block store with what keel-dm and Keel do with the results: apply ops, map or unmap. */
struct sim {
	struct cfi c;
	uint8_t array[2 * CFI_BLOCK];
	int mapped; /* Keel's pages are in the guest's map: reads do not reach the state machine */
	int unknown;
};

static void sim_init(struct sim *s)
{
	cfi_reset(&s->c);
	for (unsigned i = 0; i < sizeof(s->array); i++)
		s->array[i] = (uint8_t)(i * 7 + 1);
	memset(s->array, 0, 0x10); /* an FV header's ZeroVector */
	s->array[0x10] = 0x8d;	   /* OVMF_VARS' first byte that is not 0x00, 0x50 or 0x70 */
	s->mapped = 1;
	s->unknown = 0;
}

static void wr(struct sim *s, uint64_t off, uint8_t val)
{
	struct cfi_result r = cfi_write(&s->c, off, val);

	if (r.op == CFI_OP_PROGRAM)
		s->array[off] = val;
	if (r.op == CFI_OP_ERASE)
		memset(s->array + (off & ~(uint64_t)(CFI_BLOCK - 1)), 0xff, CFI_BLOCK);
	s->mapped = r.array;
	s->unknown += r.unknown;
}

static uint8_t rd(struct sim *s, uint64_t off)
{
	int v;

	if (s->mapped)
		return s->array[off];
	v = cfi_read(&s->c);
	return v < 0 ? s->array[off] : (uint8_t)v;
}

/* QemuFlashDetected(), step by step: it has to conclude "FLASH". */
static int ovmf_probe(struct sim *s)
{
	uint64_t off = 0;
	uint8_t orig, probe;

	while (off < CFI_BLOCK && (rd(s, off) == 0x50 || rd(s, off) == 0x70 || rd(s, off) == 0))
		off++;
	CHECK_EQ(off, 0x10);
	orig = rd(s, off);
	wr(s, off, 0x50);
	probe = rd(s, off);
	if (orig != 0x50 && probe == 0x50)
		return 'R'; /* RAM */
	wr(s, off, 0x70);
	probe = rd(s, off);
	if (probe == orig)
		return 'O'; /* ROM */
	if (probe == 0x70)
		return 'R';
	if (probe == 0x00) {
		wr(s, off, 0xff);
		return 'F';
	}
	return '?';
}

TEST(cfi_ovmf_probe_finds_flash_and_leaves_read_array)
{
	struct sim s;

	sim_init(&s);
	CHECK_EQ(ovmf_probe(&s), 'F');
	CHECK_EQ(s.c.mode, CFI_READ_ARRAY);
	CHECK(s.mapped);
	CHECK_EQ(rd(&s, 0x10), 0x8d); /* the array again, unchanged */
	CHECK_EQ(s.unknown, 0);
	/* and again after a guest reboot, where the status was left ready by a program */
	wr(&s, 0x20, 0x10), wr(&s, 0x20, 0x00), wr(&s, 0x20, 0xff);
	CHECK_EQ(ovmf_probe(&s), 'F');
}

TEST(cfi_ovmf_program_stores_each_byte)
{
	static const uint8_t data[] = { 0xaa, 0x55, 0x00, 0xff, 0x12 };
	struct sim s;
	uint64_t at = CFI_BLOCK + 0x100;

	sim_init(&s);
	/* QemuFlashWrite(): 0x10 and the byte, per byte; 0xFF at the last one */
	for (unsigned i = 0; i < sizeof(data); i++) {
		wr(&s, at + i, 0x10);
		CHECK(!s.mapped); /* command mode traps reads */
		CHECK_EQ(s.c.mode, CFI_PROGRAM);
		wr(&s, at + i, data[i]);
		CHECK_EQ(s.c.mode, CFI_READ_STATUS);
		CHECK_EQ(rd(&s, at + i), CFI_STATUS_READY);
	}
	wr(&s, at + sizeof(data) - 1, 0xff);
	CHECK(s.mapped);
	CHECK(!memcmp(s.array + at, data, sizeof(data)));
	CHECK_EQ(s.array[at - 1], (uint8_t)((at - 1) * 7 + 1)); /* neighbours untouched */
	CHECK_EQ(s.array[at + sizeof(data)], (uint8_t)((at + sizeof(data)) * 7 + 1));
	/* a data byte equal to a command is data: 0x20, 0xD0, 0xFF, 0x70 */
	wr(&s, at, 0x40), wr(&s, at, 0x20);
	wr(&s, at + 1, 0x10), wr(&s, at + 1, 0xd0);
	wr(&s, at + 2, 0x10), wr(&s, at + 2, 0x70);
	wr(&s, at + 2, 0xff);
	CHECK_EQ(s.array[at], 0x20);
	CHECK_EQ(s.array[at + 1], 0xd0);
	CHECK_EQ(s.array[at + 2], 0x70);
	CHECK_EQ(s.array[0x10], 0x8d);
}

TEST(cfi_ovmf_erase_fills_its_block_only)
{
	struct sim s;

	sim_init(&s);
	/* QemuFlashEraseBlock(): 0x20, 0xD0 at the block's first byte; nothing after */
	wr(&s, CFI_BLOCK, 0x20);
	CHECK_EQ(s.c.mode, CFI_ERASE);
	CHECK(!s.mapped);
	wr(&s, CFI_BLOCK, 0xd0);
	for (unsigned i = 0; i < CFI_BLOCK; i++)
		if (s.array[CFI_BLOCK + i] != 0xff)
			CHECK_EQ(s.array[CFI_BLOCK + i], 0xff);
	CHECK_EQ(s.array[CFI_BLOCK - 1], (uint8_t)((CFI_BLOCK - 1) * 7 + 1));
	CHECK_EQ(rd(&s, CFI_BLOCK), CFI_STATUS_READY); /* status mode until a command */
	/* the next OVMF step after an erase is a program: a command from status mode */
	wr(&s, CFI_BLOCK + 5, 0x10), wr(&s, CFI_BLOCK + 5, 0x3c), wr(&s, CFI_BLOCK + 5, 0xff);
	CHECK(s.mapped);
	CHECK_EQ(s.array[CFI_BLOCK + 5], 0x3c);
	CHECK_EQ(s.array[CFI_BLOCK + 4], 0xff);
}

TEST(cfi_erase_without_confirm_erases_nothing)
{
	struct sim s;

	sim_init(&s);
	wr(&s, 0, 0x20);
	wr(&s, 0, 0xff); /* not 0xD0 */
	CHECK_EQ(s.array[0x10], 0x8d);
	CHECK_EQ(rd(&s, 0), CFI_STATUS_READY | CFI_STATUS_ERASE_ERR | CFI_STATUS_PROG_ERR);
	wr(&s, 0, 0x50); /* clear status: back to the array, errors gone */
	CHECK(s.mapped);
	wr(&s, 0, 0x70);
	CHECK_EQ(rd(&s, 0), 0);
	wr(&s, 0, 0xff);
	CHECK(s.mapped);
}

TEST(cfi_unknown_commands_return_to_read_array)
{
	struct sim s;

	sim_init(&s);
	wr(&s, 0, 0x90); /* read identifier: not here */
	CHECK_EQ(s.unknown, 1);
	CHECK(s.mapped);
	CHECK_EQ(rd(&s, 0x10), 0x8d);
	wr(&s, 0, 0x98); /* CFI query */
	CHECK_EQ(s.unknown, 2);
	CHECK_EQ(s.c.mode, CFI_READ_ARRAY);
}

TEST(cfi_state_survives_a_copy_between_command_and_data)
{
	struct sim s;
	struct cfi saved;

	sim_init(&s);
	wr(&s, 0x30, 0x10);
	saved = s.c; /* what a restarted keel-dm reads back from its state file */
	cfi_reset(&s.c);
	s.c = saved;
	wr(&s, 0x30, 0x50); /* data, not "clear status" */
	CHECK_EQ(s.array[0x30], 0x50);
	CHECK_EQ(s.c.mode, CFI_READ_STATUS);
}
