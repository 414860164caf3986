// SPDX-License-Identifier: MIT
/* The 8042 keyboard controller and its keyboard (i8042.h): commands, scan codes, translation. */
#include "i8042.h"
#include <string.h>

/*
 * Scan code set 2 of each key, by its set 1 code (Microsoft, "Keyboard Scan
 * Code Specification" rev. 1.3a, appendix C). Keys with an E0 prefix have it
 * in both sets, so the same table serves them (0x5B-0x5D: the Windows and
 * Menu keys, which exist only with E0). Linux key codes 1-83 are the set 1
 * codes; 0 marks a code no key has.
 */
static const uint8_t set2_of[0x5e] = {
	[0x01] = 0x76, [0x02] = 0x16, [0x03] = 0x1e, [0x04] = 0x26, [0x05] = 0x25, [0x06] = 0x2e,
	[0x07] = 0x36, [0x08] = 0x3d, [0x09] = 0x3e, [0x0a] = 0x46, [0x0b] = 0x45, [0x0c] = 0x4e,
	[0x0d] = 0x55, [0x0e] = 0x66, [0x0f] = 0x0d, [0x10] = 0x15, [0x11] = 0x1d, [0x12] = 0x24,
	[0x13] = 0x2d, [0x14] = 0x2c, [0x15] = 0x35, [0x16] = 0x3c, [0x17] = 0x43, [0x18] = 0x44,
	[0x19] = 0x4d, [0x1a] = 0x54, [0x1b] = 0x5b, [0x1c] = 0x5a, [0x1d] = 0x14, [0x1e] = 0x1c,
	[0x1f] = 0x1b, [0x20] = 0x23, [0x21] = 0x2b, [0x22] = 0x34, [0x23] = 0x33, [0x24] = 0x3b,
	[0x25] = 0x42, [0x26] = 0x4b, [0x27] = 0x4c, [0x28] = 0x52, [0x29] = 0x0e, [0x2a] = 0x12,
	[0x2b] = 0x5d, [0x2c] = 0x1a, [0x2d] = 0x22, [0x2e] = 0x21, [0x2f] = 0x2a, [0x30] = 0x32,
	[0x31] = 0x31, [0x32] = 0x3a, [0x33] = 0x41, [0x34] = 0x49, [0x35] = 0x4a, [0x36] = 0x59,
	[0x37] = 0x7c, [0x38] = 0x11, [0x39] = 0x29, [0x3a] = 0x58, [0x3b] = 0x05, [0x3c] = 0x06,
	[0x3d] = 0x04, [0x3e] = 0x0c, [0x3f] = 0x03, [0x40] = 0x0b, [0x41] = 0x83, [0x42] = 0x0a,
	[0x43] = 0x01, [0x44] = 0x09, [0x45] = 0x77, [0x46] = 0x7e, [0x47] = 0x6c, [0x48] = 0x75,
	[0x49] = 0x7d, [0x4a] = 0x7b, [0x4b] = 0x6b, [0x4c] = 0x73, [0x4d] = 0x74, [0x4e] = 0x79,
	[0x4f] = 0x69, [0x50] = 0x72, [0x51] = 0x7a, [0x52] = 0x70, [0x53] = 0x71, [0x56] = 0x61,
	[0x57] = 0x78, [0x58] = 0x07, [0x5b] = 0x1f, [0x5c] = 0x27, [0x5d] = 0x2f,
};

#define E0 0x100 /* the key's codes have the E0 prefix */

/* Linux key codes past 83 (input-event-codes.h): their set 1 code, E0 for the extended ones. */
static const struct {
	uint8_t code;
	uint16_t set1;
} more_keys[] = {
	{ 86, 0x56 },	    /* KEY_102ND */
	{ 87, 0x57 },	    /* KEY_F11 */
	{ 88, 0x58 },	    /* KEY_F12 */
	{ 96, E0 | 0x1c },  /* KEY_KPENTER */
	{ 97, E0 | 0x1d },  /* KEY_RIGHTCTRL */
	{ 98, E0 | 0x35 },  /* KEY_KPSLASH */
	{ 99, E0 | 0x37 },  /* KEY_SYSRQ (Print Screen) */
	{ 100, E0 | 0x38 }, /* KEY_RIGHTALT */
	{ 102, E0 | 0x47 }, /* KEY_HOME */
	{ 103, E0 | 0x48 }, /* KEY_UP */
	{ 104, E0 | 0x49 }, /* KEY_PAGEUP */
	{ 105, E0 | 0x4b }, /* KEY_LEFT */
	{ 106, E0 | 0x4d }, /* KEY_RIGHT */
	{ 107, E0 | 0x4f }, /* KEY_END */
	{ 108, E0 | 0x50 }, /* KEY_DOWN */
	{ 109, E0 | 0x51 }, /* KEY_PAGEDOWN */
	{ 110, E0 | 0x52 }, /* KEY_INSERT */
	{ 111, E0 | 0x53 }, /* KEY_DELETE */
	{ 125, E0 | 0x5b }, /* KEY_LEFTMETA */
	{ 126, E0 | 0x5c }, /* KEY_RIGHTMETA */
	{ 127, E0 | 0x5d }, /* KEY_COMPOSE (Menu) */
};

#define KEY_PAUSE 119 /* make only, no break code: E1 14 77 E1 F0 14 F0 77 in set 2 */

/* Keyboard commands (IBM PS/2 Technical Reference, "Keyboard and Auxiliary Device Controller"). */
#define KBD_ACK 0xfa
#define KBD_RESEND 0xfe
#define KBD_BAT_OK 0xaa
#define KBD_ECHO 0xee

static int set1_of(unsigned code)
{
	if (code >= 1 && code <= 83)
		return (int)code;
	for (unsigned i = 0; i < sizeof(more_keys) / sizeof(more_keys[0]); i++)
		if (more_keys[i].code == code)
			return more_keys[i].set1;
	return -1;
}

/* The 8042's translation of a byte from the keyboard: a set 2 code to its set 1 code, others as they are. */
static uint8_t xlate(uint8_t b)
{
	for (unsigned i = 1; i < sizeof(set2_of); i++)
		if (set2_of[i] && set2_of[i] == b)
			return (uint8_t)i;
	return b;
}

static void kbd_send(struct i8042 *k, uint8_t b)
{
	if (k->qlen >= I8042_QUEUE)
		return; /* the keyboard's buffer overflowed: the byte is lost */
	k->q[(k->qhead + k->qlen++) % I8042_QUEUE] = b;
	k->last = b;
}

/* Moves the next byte for the guest into the output buffer, if it is empty. */
static void fill(struct i8042 *k)
{
	while (!k->obf) {
		uint8_t b;

		if (k->ctl_len) {
			b = k->ctl[0];
			k->ctl[0] = k->ctl[1];
			k->ctl_len--;
		} else if (k->qlen && !(k->cmd & I8042_CMD_KBD_DISABLE)) {
			b = k->q[k->qhead];
			k->qhead = (uint8_t)((k->qhead + 1) % I8042_QUEUE);
			k->qlen--;
			if (k->cmd & I8042_CMD_XLATE) {
				if (b == 0xf0) { /* a set 2 break prefix: set 1 has bit 7 instead */
					k->xlate_break = 1;
					continue;
				}
				b = (uint8_t)(xlate(b) | (k->xlate_break ? 0x80 : 0));
				k->xlate_break = 0;
			}
		} else {
			return;
		}
		k->out = b;
		k->obf = 1;
		k->loads++;
	}
}

/* An answer of the controller itself: ahead of the keyboard's bytes, never translated. */
static void respond(struct i8042 *k, uint8_t b)
{
	if (k->ctl_len < sizeof(k->ctl))
		k->ctl[k->ctl_len++] = b;
	fill(k);
}

static void kbd_defaults(struct i8042 *k)
{
	k->set = 2;
	k->leds = 0;
	k->kcmd = 0;
}

void i8042_reset(struct i8042 *k)
{
	memset(k, 0, sizeof(*k));
	/* interrupts on, no mouse, translating: what a PC BIOS leaves, and what OVMF writes again */
	k->cmd = I8042_CMD_KBD_INT | I8042_CMD_AUX_DISABLE | I8042_CMD_XLATE;
	k->outport = 0x03; /* reset line high, A20 on */
	k->scanning = 1;
	kbd_defaults(k);
}

int i8042_irq(const struct i8042 *k)
{
	return k->obf && (k->cmd & I8042_CMD_KBD_INT);
}

uint8_t i8042_read(struct i8042 *k, unsigned off)
{
	uint8_t b;

	if (off ==
	    4) /* OBF, SYS, A2; bit 4: the keyboard is not locked; IBF never (done at once) */
		return (uint8_t)(k->obf | (k->sys ? 0x04 : 0) | (k->a2 ? 0x08 : 0) | 0x10);
	b = k->out; /* an empty buffer reads as its last byte */
	k->obf = 0;
	fill(k);
	return b;
}

/* A parameter byte of the keyboard command before it. */
static void kbd_param(struct i8042 *k, uint8_t val)
{
	uint8_t c = k->kcmd;

	k->kcmd = 0;
	if (c == 0xed) { /* set LEDs */
		k->leds = val & 7;
	} else if (c == 0xf0 && val == 0) { /* which scan code set */
		kbd_send(k, KBD_ACK);
		kbd_send(k, k->set);
		return;
	} else if (c == 0xf0 && (val == 1 || val == 2)) {
		k->set = val;
	} else if (c == 0xf0) { /* set 3: not this keyboard's */
		kbd_send(k, KBD_RESEND);
		return;
	} /* 0xf3: the typematic rate, which repeating clients make themselves */
	kbd_send(k, KBD_ACK);
}

/* A byte the guest sends the keyboard. */
static void kbd_write(struct i8042 *k, uint8_t val)
{
	if (k->kcmd) {
		kbd_param(k, val);
		return;
	}
	switch (val) {
	case 0xed: /* set LEDs, set or read the scan code set, typematic rate: a parameter follows */
	case 0xf0:
	case 0xf3:
		k->kcmd = val;
		kbd_send(k, KBD_ACK);
		break;
	case 0xee:
		kbd_send(k, KBD_ECHO);
		break;
	case 0xf2: /* identify: an MF2 keyboard */
		kbd_send(k, KBD_ACK);
		kbd_send(k, 0xab);
		kbd_send(k, 0x83);
		break;
	case 0xf4: /* enable */
		k->scanning = 1;
		kbd_send(k, KBD_ACK);
		break;
	case 0xf5: /* disable, with the defaults */
		k->scanning = 0;
		kbd_defaults(k);
		kbd_send(k, KBD_ACK);
		break;
	case 0xf6: /* the defaults */
		kbd_defaults(k);
		kbd_send(k, KBD_ACK);
		break;
	case 0xfe:
		kbd_send(k, k->last);
		break;
	case 0xff: /* reset: its buffer cleared, then the basic assurance test passes */
		k->qlen = 0;
		k->scanning = 1;
		kbd_defaults(k);
		kbd_send(k, KBD_ACK);
		kbd_send(k, KBD_BAT_OK);
		break;
	default:
		if (val >= 0xf7) /* set 3's key types: acknowledged, they change nothing in set 2 */
			kbd_send(k, KBD_ACK);
		else
			kbd_send(k, KBD_RESEND);
	}
}

/* The data byte of a controller command that takes one. */
static int ctl_data(struct i8042 *k, uint8_t c, uint8_t val)
{
	switch (c) {
	case 0x60:
		k->cmd = val;
		k->sys = !!(val & I8042_CMD_SYS);
		break;
	case 0xd1: /* the output port; bit 0 low holds the CPU in reset */
		k->outport = val;
		if (!(val & 1))
			return I8042_RESET;
		break;
	case 0xd2: /* as if the keyboard had sent it */
		respond(k, val);
		break;
	default: /* 0xd3, 0xd4: the auxiliary port's, and there is none */
		break;
	}
	return 0;
}

/* A controller command (IBM PS/2 Technical Reference, "Keyboard/Auxiliary Device Controller"). */
static int ctl_command(struct i8042 *k, uint8_t c)
{
	if (c == 0x20) {
		respond(k, k->cmd);
	} else if (c == 0x60 || (c >= 0xd1 && c <= 0xd4)) {
		k->pending = c;
	} else if (c == 0xa7) {
		k->cmd |= I8042_CMD_AUX_DISABLE;
	} else if (c == 0xa8) {
		k->cmd &= (uint8_t)~I8042_CMD_AUX_DISABLE;
	} else if (c == 0xa9 || c == 0xab) { /* auxiliary and keyboard interface tests: no error */
		respond(k, 0x00);
	} else if (c == 0xaa) { /* self-test: passed, and the system flag says so */
		k->sys = 1;
		k->cmd |= I8042_CMD_SYS;
		respond(k, 0x55);
	} else if (c == 0xad) {
		k->cmd |= I8042_CMD_KBD_DISABLE;
	} else if (c == 0xae) {
		k->cmd &= (uint8_t)~I8042_CMD_KBD_DISABLE;
	} else if (c == 0xc0) { /* the input port: bit 7, the keyboard is not inhibited */
		respond(k, 0x80);
	} else if (c == 0xd0) {
		respond(k, k->outport);
	} else if (c == 0xdd || c == 0xdf) { /* A20 off, on */
		k->outport = (uint8_t)((k->outport & ~2) | (c == 0xdf ? 2 : 0));
	} else if (c >= 0xf0 &&
		   !(c & 1)) { /* pulse output port bits low: bit 0 is the reset line */
		return I8042_RESET;
	} /* others (read/write of the controller's RAM, the test inputs): nothing */
	return 0;
}

int i8042_write(struct i8042 *k, unsigned off, uint8_t val)
{
	int ret = 0;

	if (off == 4) {
		k->a2 = 1;
		k->pending = 0;
		ret = ctl_command(k, val);
	} else if (k->pending) {
		uint8_t c = k->pending;

		k->a2 = 0;
		k->pending = 0;
		ret = ctl_data(k, c, val);
	} else {
		k->a2 = 0;
		k->cmd &= (uint8_t)~I8042_CMD_KBD_DISABLE; /* sending to the keyboard enables it */
		kbd_write(k, val);
	}
	fill(k);
	return ret;
}

void i8042_key(struct i8042 *k, unsigned code, int down)
{
	static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
	static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	uint8_t seq[8];
	unsigned n = 0;
	int s1 = set1_of(code);

	if (!k->scanning || k->kcmd)
		return;
	if (code == KEY_PAUSE) {
		if (!down)
			return;
		n = k->set == 1 ? sizeof(pause1) : sizeof(pause2);
		memcpy(seq, k->set == 1 ? pause1 : pause2, n);
	} else if (s1 < 0) {
		return;
	} else {
		if (s1 & E0)
			seq[n++] = 0xe0;
		if (k->set == 1) {
			seq[n++] = (uint8_t)((s1 & 0x7f) | (down ? 0 : 0x80));
		} else {
			if (!down)
				seq[n++] = 0xf0;
			seq[n++] = set2_of[s1 & 0xff];
		}
	}
	if (k->qlen + n > I8042_QUEUE)
		return; /* no room for all of it: the key is lost, not half of it */
	for (unsigned i = 0; i < n; i++)
		kbd_send(k, seq[i]);
	fill(k);
}
