// SPDX-License-Identifier: MIT
/* keel-dm's 8042 keyboard controller under what OVMF's Ps2KeyboardDxe and Linux's atkbd send it. */
#include "test.h"
#include "tools/keel-dm/kbc/i8042.h"

#define OBF 0x01
#define SYS 0x04

static unsigned st(struct i8042 *k)
{
	return i8042_read(k, 4);
}

/* The next byte for the guest, or -1 when the output buffer is empty. */
static int next(struct i8042 *k)
{
	return (st(k) & OBF) ? i8042_read(k, 0) : -1;
}

/* Ps2KeyboardDxe's InitKeyboard() at its first start (no system flag), with extended verification. */
static void ovmf_init(struct i8042 *k)
{
	CHECK_EQ(st(k) & (SYS | 0xc0), 0); /* no parity and timeout bits: a controller is there */
	i8042_write(k, 4, 0xad);	   /* disable keyboard and mouse, then the self-test */
	i8042_write(k, 4, 0xa7);
	i8042_write(k, 4, 0xaa);
	CHECK_EQ(next(k), 0x55);
	CHECK(st(k) & SYS);
	i8042_write(k, 4, 0x60); /* the command byte: translation, interrupts, system flag */
	i8042_write(k, 0, 0x67);
	i8042_write(k, 0, 0xf4); /* CheckKeyboardConnect */
	CHECK_EQ(next(k), 0xfa);
	i8042_write(k, 4, 0xab);
	CHECK_EQ(next(k), 0x00);
	i8042_write(k, 0, 0xff); /* reset: ACK, BAT */
	CHECK_EQ(next(k), 0xfa);
	CHECK_EQ(next(k), 0xaa);
	i8042_write(k, 0, 0xf0);
	CHECK_EQ(next(k), 0xfa); /* scan code set 2 */
	i8042_write(k, 0, 0x02);
	CHECK_EQ(next(k), 0xfa);
	i8042_write(k, 0, 0xf4);
	CHECK_EQ(next(k), 0xfa);
	i8042_write(k, 0, 0xed);
	CHECK_EQ(next(k), 0xfa); /* LEDs */
	i8042_write(k, 0, 0x00);
	CHECK_EQ(next(k), 0xfa);
	CHECK_EQ(next(k), -1);
}

TEST(i8042_ovmf_init)
{
	struct i8042 k;

	i8042_reset(&k);
	ovmf_init(&k);
	i8042_write(&k, 4, 0x20); /* read back the command byte */
	CHECK_EQ(next(&k), 0x67);
	CHECK(!i8042_irq(&k));
}

TEST(i8042_translated_keys)
{
	struct i8042 k;

	i8042_reset(&k);
	ovmf_init(&k);
	i8042_key(&k, 47, 1); /* KEY_V down: set 1 0x2F */
	CHECK(i8042_irq(&k));
	CHECK_EQ(next(&k), 0x2f);
	CHECK(!i8042_irq(&k));
	i8042_key(&k, 47, 0); /* up: F0 2A in set 2, one byte 0xAF after translation */
	CHECK_EQ(next(&k), 0xaf);
	CHECK_EQ(next(&k), -1);
	i8042_key(&k, 28, 1), i8042_key(&k, 28, 0); /* KEY_ENTER */
	CHECK_EQ(next(&k), 0x1c);
	CHECK_EQ(next(&k), 0x9c);
	i8042_key(&k, 108, 1), i8042_key(&k, 108, 0); /* KEY_DOWN: E0 50, E0 D0 */
	CHECK_EQ(next(&k), 0xe0);
	CHECK_EQ(next(&k), 0x50);
	CHECK_EQ(next(&k), 0xe0);
	CHECK_EQ(next(&k), 0xd0);
	i8042_key(&k, 65, 1); /* KEY_F7: set 2's only code above 0x7F (0x83) */
	CHECK_EQ(next(&k), 0x41);
	i8042_key(&k, 0x2ff, 1); /* no such key */
	CHECK_EQ(next(&k), -1);
	/* every key Linux numbers 1-83 is its set 1 code, make and break */
	for (unsigned code = 1; code <= 83; code++) {
		i8042_key(&k, code, 1);
		CHECK_EQ(next(&k), code);
		i8042_key(&k, code, 0);
		CHECK_EQ(next(&k), code | 0x80);
	}
}

TEST(i8042_untranslated_and_set1)
{
	struct i8042 k;

	i8042_reset(&k);
	i8042_write(&k, 4, 0x60);
	i8042_write(&k, 0, 0x07); /* no translation: the keyboard's set 2 as it is */
	i8042_key(&k, 30, 1), i8042_key(&k, 30, 0); /* KEY_A: 1C, F0 1C */
	CHECK_EQ(next(&k), 0x1c);
	CHECK_EQ(next(&k), 0xf0);
	CHECK_EQ(next(&k), 0x1c);
	i8042_write(&k, 0, 0xf0);
	CHECK_EQ(next(&k), 0xfa);
	i8042_write(&k, 0, 0x00);
	CHECK_EQ(next(&k), 0xfa);
	CHECK_EQ(next(&k), 0x02); /* set 2 */
	i8042_write(&k, 0, 0xf0);
	CHECK_EQ(next(&k), 0xfa);
	i8042_write(&k, 0, 0x01);
	CHECK_EQ(next(&k), 0xfa);
	i8042_key(&k, 30, 1), i8042_key(&k, 30, 0);
	CHECK_EQ(next(&k), 0x1e);
	CHECK_EQ(next(&k), 0x9e);
	i8042_write(&k, 0, 0xf2);
	CHECK_EQ(next(&k), 0xfa); /* identify: an MF2 keyboard */
	CHECK_EQ(next(&k), 0xab);
	CHECK_EQ(next(&k), 0x83);
}

TEST(i8042_controller)
{
	struct i8042 k;

	i8042_reset(&k);
	i8042_write(&k, 4, 0xad); /* keyboard disabled: its bytes wait */
	i8042_key(&k, 30, 1);
	CHECK_EQ(next(&k), -1);
	i8042_write(&k, 4, 0x20); /* the controller's own answers still come */
	CHECK_EQ(next(&k), 0x71);
	i8042_write(&k, 4, 0xae);
	CHECK_EQ(next(&k), 0x1e);
	i8042_key(&k, 30, 0);
	i8042_write(&k, 4, 0xd0); /* output port: the answer comes before the keyboard's byte */
	CHECK_EQ(next(&k), 0x9e);
	CHECK_EQ(next(&k), 0x03);
	i8042_write(&k, 4, 0xd2), i8042_write(&k, 0, 0x42);
	CHECK_EQ(next(&k), 0x42);
	CHECK_EQ(i8042_write(&k, 4, 0xfe), I8042_RESET); /* the reset line pulsed */
	CHECK_EQ(i8042_write(&k, 4, 0xff), 0);
	i8042_write(&k, 4, 0xd1);
	CHECK_EQ(i8042_write(&k, 0, 0x02), I8042_RESET);
	/* a full keyboard buffer drops whole keys */
	for (unsigned i = 0; i < 20; i++)
		i8042_key(&k, 108, 1); /* E0 75: two bytes each */
	CHECK_EQ(k.qlen + k.obf, I8042_QUEUE);
	CHECK(i8042_irq(&k));
}
