// SPDX-License-Identifier: MIT
/* X keysyms (what RFB key events carry, RFC 6143 7.5.4) to Linux evdev key codes, US layout. */
#include "keymap.h"
#include <stddef.h>

/*
 * Printable keysyms equal their Latin-1 code points (X11 keysymdef.h,
 * "Latin 1"); each row of a US keyboard in Linux code order
 * (input-event-codes.h: KEY_1 = 2 ... KEY_EQUAL = 13, KEY_Q = 16 ...).
 * A shifted character is on the same key as the unshifted one below it.
 */
static const char row_num[] = "1234567890-=", row_num_shift[] = "!@#$%^&*()_+";
static const char row_q[] = "qwertyuiop[]", row_q_shift[] = "QWERTYUIOP{}";
static const char row_a[] = "asdfghjkl;'`", row_a_shift[] = "ASDFGHJKL:\"~";
static const char row_z[] = "\\zxcvbnm,./", row_z_shift[] = "|ZXCVBNM<>?";

struct row {
	const char *plain, *shifted;
	unsigned first; /* the code of the row's first key */
};

static const struct row rows[] = {
	{ row_num, row_num_shift, 2 }, /* KEY_1 */
	{ row_q, row_q_shift, 16 },    /* KEY_Q */
	{ row_a, row_a_shift, 30 },    /* KEY_A */
	{ row_z, row_z_shift, 43 },    /* KEY_BACKSLASH, then KEY_Z = 44 */
};

/* Function and modifier keys: keysyms 0xffxx (keysymdef.h "TTY function keys" and on). */
static const struct {
	uint32_t keysym;
	unsigned code;
} specials[] = {
	{ 0xff08, 14 },	 /* BackSpace: KEY_BACKSPACE */
	{ 0xff09, 15 },	 /* Tab */
	{ 0xff0d, 28 },	 /* Return: KEY_ENTER */
	{ 0xff1b, 1 },	 /* Escape */
	{ 0x0020, 57 },	 /* space */
	{ 0xffe1, 42 },	 /* Shift_L: KEY_LEFTSHIFT */
	{ 0xffe2, 54 },	 /* Shift_R */
	{ 0xffe3, 29 },	 /* Control_L */
	{ 0xffe4, 97 },	 /* Control_R */
	{ 0xffe9, 56 },	 /* Alt_L */
	{ 0xffea, 100 }, /* Alt_R */
	{ 0xffeb, 125 }, /* Super_L: KEY_LEFTMETA */
	{ 0xffec, 126 }, /* Super_R */
	{ 0xffe5, 58 },	 /* Caps_Lock */
	{ 0xff50, 102 }, /* Home */
	{ 0xff51, 105 }, /* Left */
	{ 0xff52, 103 }, /* Up */
	{ 0xff53, 106 }, /* Right */
	{ 0xff54, 108 }, /* Down */
	{ 0xff55, 104 }, /* Prior: KEY_PAGEUP */
	{ 0xff56, 109 }, /* Next: KEY_PAGEDOWN */
	{ 0xff57, 107 }, /* End */
	{ 0xff63, 110 }, /* Insert */
	{ 0xffff, 111 }, /* Delete */
	{ 0xff7f, 69 },	 /* Num_Lock */
	{ 0xff14, 70 },	 /* Scroll_Lock */
	{ 0xff61, 99 },	 /* Print: KEY_SYSRQ */
	{ 0xff13, 119 }, /* Pause */
	{ 0xff67, 127 }, /* Menu: KEY_COMPOSE */
};

unsigned keymap_linux_code(uint32_t keysym)
{
	if (keysym >= 0xffbe && keysym <= 0xffc7) /* F1..F10: KEY_F1 = 59 ... */
		return 59 + (keysym - 0xffbe);
	if (keysym == 0xffc8 || keysym == 0xffc9) /* F11, F12: KEY_F11 = 87, KEY_F12 = 88 */
		return 87 + (keysym - 0xffc8);
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++)
		if (specials[i].keysym == keysym)
			return specials[i].code;
	if (keysym < 0x21 || keysym > 0x7e)
		return 0;
	for (size_t r = 0; r < sizeof(rows) / sizeof(rows[0]); r++)
		for (unsigned k = 0; rows[r].plain[k]; k++)
			if ((uint32_t)(unsigned char)rows[r].plain[k] == keysym ||
			    (uint32_t)(unsigned char)rows[r].shifted[k] == keysym)
				return rows[r].first + k;
	return 0;
}
