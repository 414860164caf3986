/* SPDX-License-Identifier: MIT */
/* The command state machine of an Intel/Sharp (CFI 0x0001) NOR flash, as the firmware drives it. */
#ifndef KEEL_DM_CFI_H
#define KEEL_DM_CFI_H

#include <stdint.h>

/*
 * What OVMF's QemuFlashFvbServicesRuntimeDxe does to a QEMU pflash_cfi01
 * device, byte by byte (Intel 28F series datasheets, "Command Definitions"):
 *   probe    read a byte; write 0x50 (clear status), read it again (the
 *            byte: not RAM); write 0x70 (read status), read: 0x00 is flash;
 *            write 0xFF (read array)
 *   program  per byte 0x10 (or 0x40), the data; 0xFF after the last
 *   erase    0x20, 0xD0 at the block (no status read, no 0xFF)
 * The state is a plain struct so a restarted keel-dm carries on mid-sequence.
 */
enum cfi_mode {
	CFI_READ_ARRAY,	 /* reads: the array (Keel maps it: reads do not trap) */
	CFI_READ_STATUS, /* reads: the status register */
	CFI_PROGRAM,	 /* 0x10/0x40 came: the next write is data */
	CFI_ERASE,	 /* 0x20 came: the next write should be 0xD0 */
};

#define CFI_STATUS_READY 0x80	  /* SR.7: write state machine ready */
#define CFI_STATUS_ERASE_ERR 0x20 /* SR.5: erase failed, or a bad erase sequence */
#define CFI_STATUS_PROG_ERR 0x10  /* SR.4: program failed, or a bad sequence */
#define CFI_BLOCK 4096u		  /* OVMF's block (PcdOvmfFirmwareBlockSize), QEMU's sector */

struct cfi {
	uint32_t mode;	 /* enum cfi_mode */
	uint32_t status; /* the status register (a byte) */
};

/* What the owner of the array does after a write: */
enum cfi_op {
	CFI_OP_NONE,
	CFI_OP_PROGRAM, /* store the written byte at the written offset */
	CFI_OP_ERASE,	/* fill the CFI_BLOCK block holding the offset with 0xFF */
};

struct cfi_result {
	enum cfi_op op;
	int array;   /* 1: reads are the array now (map it), 0: they trap (unmap it) */
	int unknown; /* a command this flash does not have (it went back to read array) */
};

/* Power-on: read array, status ready (QEMU's pflash_cfi01 starts with 0x80). */
void cfi_reset(struct cfi *c);
/* A one-byte write at offset off of the device. */
struct cfi_result cfi_write(struct cfi *c, uint64_t off, uint8_t val);
/* A read at off in a mode that traps: the status, or (in read array) -1: the array's byte. */
int cfi_read(const struct cfi *c);

#endif
