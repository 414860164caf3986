/* SPDX-License-Identifier: MIT */
/* Function names for addresses in keel.efi, from a table generated at link time. */
#ifndef KEEL_SYMBOLS_H
#define KEEL_SYMBOLS_H

#include <lib/types.h>

/* Name of the function containing addr and the offset into it, or NULL. */
const char *symbol_lookup(u64 addr, u64 *offset);

#endif
