/* SPDX-License-Identifier: MIT */
/* X keysyms (what RFB key events carry, RFC 6143 7.5.4) to Linux evdev key codes, US layout. */
#ifndef KEEL_VNC_KEYMAP_H
#define KEEL_VNC_KEYMAP_H

#include <stdint.h>

/* The key that types keysym on a US keyboard (shift is a key of its own); 0: none. */
unsigned keymap_linux_code(uint32_t keysym);

#endif
