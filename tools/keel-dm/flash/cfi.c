// SPDX-License-Identifier: MIT
/* The CFI flash command state machine behind a firmware VM's variable store (see cfi.h). */
#include "cfi.h"

/* Intel/Sharp command set (CFI primary vendor command set 0x0001). */
#define CMD_PROGRAM 0x10
#define CMD_ERASE 0x20
#define CMD_PROGRAM_ALT 0x40
#define CMD_CLEAR_STATUS 0x50
#define CMD_READ_STATUS 0x70
#define CMD_ERASE_CONFIRM 0xd0
#define CMD_READ_ARRAY 0xff

void cfi_reset(struct cfi *c)
{
	c->mode = CFI_READ_ARRAY;
	c->status = CFI_STATUS_READY;
}

static struct cfi_result to(struct cfi *c, enum cfi_mode mode, enum cfi_op op)
{
	c->mode = mode;
	return (struct cfi_result){ op, mode == CFI_READ_ARRAY, 0 };
}

/* A write in read array or read status mode: a command. */
static struct cfi_result command(struct cfi *c, uint8_t val)
{
	struct cfi_result r;

	switch (val) {
	case CMD_CLEAR_STATUS: /* and back to read array, as QEMU does */
		c->status = 0;
		return to(c, CFI_READ_ARRAY, CFI_OP_NONE);
	case CMD_READ_STATUS:
		return to(c, CFI_READ_STATUS, CFI_OP_NONE);
	case CMD_PROGRAM:
	case CMD_PROGRAM_ALT:
		return to(c, CFI_PROGRAM, CFI_OP_NONE);
	case CMD_ERASE:
		return to(c, CFI_ERASE, CFI_OP_NONE);
	case CMD_READ_ARRAY:
		return to(c, CFI_READ_ARRAY, CFI_OP_NONE);
	}
	/* ID and CFI query (0x90, 0x98), buffered program, locks: OVMF uses none */
	r = to(c, CFI_READ_ARRAY, CFI_OP_NONE);
	r.unknown = 1;
	return r;
}

struct cfi_result cfi_write(struct cfi *c, uint64_t off, uint8_t val)
{
	(void)off; /* the owner applies an operation where the write was */
	switch (c->mode) {
	case CFI_PROGRAM:
		c->status |= CFI_STATUS_READY;
		return to(c, CFI_READ_STATUS, CFI_OP_PROGRAM);
	case CFI_ERASE:
		c->status |= CFI_STATUS_READY;
		if (val == CMD_ERASE_CONFIRM)
			return to(c, CFI_READ_STATUS, CFI_OP_ERASE);
		/* a bad sequence erases nothing: both error bits, as the datasheets say */
		c->status |= CFI_STATUS_ERASE_ERR | CFI_STATUS_PROG_ERR;
		return to(c, CFI_READ_STATUS, CFI_OP_NONE);
	default:
		return command(c, val);
	}
}

int cfi_read(const struct cfi *c)
{
	return c->mode == CFI_READ_ARRAY ? -1 : (int)(c->status & 0xff);
}
