/* SPDX-License-Identifier: MIT */
/* An 8042 keyboard controller with an MF2 keyboard behind it: the state machine, no I/O. */
#ifndef KEEL_DM_I8042_H
#define KEEL_DM_I8042_H

#include <stdint.h>

/*
 * What the guest sees at ports 0x60 (data) and 0x64 (status, command), as
 * the IBM PC/AT and PS/2 technical references describe the 8042 and its
 * keyboard (and as OVMF's Ps2KeyboardDxe, GRUB's at_keyboard and Linux's
 * i8042/atkbd drive them). The keyboard sends scan code set 2 (or set 1
 * if told so); the controller translates set 2 into set 1 while its command
 * byte's bit 6 is set, as the 8042 does. No auxiliary (mouse) port.
 * A plain struct: a restarted keel-dm carries on from its bytes.
 */
#define I8042_QUEUE 16 /* the keyboard's buffer, in bytes */

struct i8042 {
	uint8_t cmd;	  /* the command byte (I8042_CMD_*) */
	uint8_t sys;	  /* status bit 2, the system flag: set by self-test and the command byte */
	uint8_t a2;	  /* status bit 3: the last write was to 0x64 */
	uint8_t out, obf; /* the output buffer and its full flag (status bit 0) */
	uint8_t pending;  /* a controller command waiting for its data byte (0x60, 0xD1-0xD4) */
	uint8_t outport;  /* the output port (0xD0/0xD1): bit 0 reset line, bit 1 A20 */
	uint8_t xlate_break;	 /* translating: an F0 came, the next byte is a break */
	uint8_t ctl_len, ctl[2]; /* the controller's own answers, before the keyboard's bytes */
	/* the keyboard */
	uint8_t set;	  /* scan code set, 1 or 2 */
	uint8_t scanning; /* 1: keys are sent (after F4 or a reset), 0: after F5 */
	uint8_t kcmd;	  /* a keyboard command waiting for its parameter (ED, F0, F3), or 0 */
	uint8_t leds, last;
	uint8_t qhead, qlen, q[I8042_QUEUE];
	uint32_t loads; /* bytes put in the output buffer so far: each is an IRQ 1 edge */
};

#define I8042_CMD_KBD_INT 0x01	   /* IRQ 1 while the output buffer is full */
#define I8042_CMD_SYS 0x04	   /* the system flag */
#define I8042_CMD_KBD_DISABLE 0x10 /* the keyboard's clock held low: its bytes wait */
#define I8042_CMD_AUX_DISABLE 0x20
#define I8042_CMD_XLATE 0x40 /* set 2 to set 1 translation */

/* i8042_write's answer: the guest pulsed the CPU reset line (command 0xFE, or 0xD1 with bit 0 clear). */
#define I8042_RESET 1

/* Power-on: what a PC's 8042 holds before firmware runs its self-test. */
void i8042_reset(struct i8042 *k);
/* A byte read at 0x60 (off 0) or 0x64 (off 4). */
uint8_t i8042_read(struct i8042 *k, unsigned off);
/* A byte written at 0x60 (off 0) or 0x64 (off 4): 0 or I8042_RESET. */
int i8042_write(struct i8042 *k, unsigned off, uint8_t val);
/* A Linux key code (input-event-codes.h) pressed (down 1) or released; unknown codes are dropped. */
void i8042_key(struct i8042 *k, unsigned code, int down);
/* IRQ 1's level: the output buffer is full and the command byte enables the interrupt. */
int i8042_irq(const struct i8042 *k);

#endif
