// SPDX-License-Identifier: MIT
/* keel-vnc's keysym table: letters, shifted symbols, function and modifier keys, and what has no key. */
#include "test.h"
#include "tools/keel-vnc/keymap.h"

TEST(keymap_letters_and_digits)
{
	CHECK_EQ(keymap_linux_code('a'), 30); /* KEY_A */
	CHECK_EQ(keymap_linux_code('A'), 30);
	CHECK_EQ(keymap_linux_code('q'), 16);
	CHECK_EQ(keymap_linux_code('m'), 50);
	CHECK_EQ(keymap_linux_code('z'), 44);
	CHECK_EQ(keymap_linux_code('1'), 2);
	CHECK_EQ(keymap_linux_code('0'), 11);
}

TEST(keymap_symbols_share_their_key)
{
	CHECK_EQ(keymap_linux_code('!'), keymap_linux_code('1'));
	CHECK_EQ(keymap_linux_code('_'), 12); /* KEY_MINUS */
	CHECK_EQ(keymap_linux_code('"'), 40); /* KEY_APOSTROPHE */
	CHECK_EQ(keymap_linux_code('|'), 43); /* KEY_BACKSLASH */
	CHECK_EQ(keymap_linux_code('?'), 53); /* KEY_SLASH */
	CHECK_EQ(keymap_linux_code('~'), 41); /* KEY_GRAVE */
}

TEST(keymap_function_keys)
{
	CHECK_EQ(keymap_linux_code(0xff0d), 28); /* Return */
	CHECK_EQ(keymap_linux_code(0xffe1), 42); /* Shift_L */
	CHECK_EQ(keymap_linux_code(0xffbe), 59); /* F1 */
	CHECK_EQ(keymap_linux_code(0xffc7), 68); /* F10 */
	CHECK_EQ(keymap_linux_code(0xffc9), 88); /* F12 */
	CHECK_EQ(keymap_linux_code(' '), 57);
}

TEST(keymap_unknown_keysyms_have_no_key)
{
	CHECK_EQ(keymap_linux_code(0), 0);
	CHECK_EQ(keymap_linux_code(0x7f), 0);
	CHECK_EQ(keymap_linux_code(0xe9), 0); /* eacute: not on a US keyboard */
	CHECK_EQ(keymap_linux_code(0x1000000), 0);
}
