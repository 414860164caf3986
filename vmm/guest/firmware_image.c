// SPDX-License-Identifier: MIT
/*
 * Checks of a firmware image before a VM maps it as its flash: a file that is
 * not one, or was cut short on its way to the boot stick, is refused with a
 * reason instead of leaving a guest that never prints anything.
 */
#include <keel/guest.h>
#include <lib/format.h>
#include <lib/string.h>

/* PI 1.8 vol. 3 3.2.1 EFI_FIRMWARE_VOLUME_HEADER: FvLength at 0x20, Signature at 0x28. */
#define FVH_LENGTH 0x20
#define FVH_SIGNATURE 0x28
#define FVH_SIGNATURE_VALUE 0x4856465f /* "_FVH" */
#define FVH_MIN_SIZE 0x48	       /* the header up to its first block map entry */
#define FW_MIN_CODE (64 * KiB)

/* Firmware volumes end to end over all of [0, size)? */
static bool volumes_fill(const u8 *img, u64 size)
{
	u64 off = 0;

	while (off < size) {
		u64 len;
		u32 sig;

		if (size - off < FVH_MIN_SIZE)
			return false;
		memcpy(&len, img + off + FVH_LENGTH, sizeof(len));
		memcpy(&sig, img + off + FVH_SIGNATURE, sizeof(sig));
		if (sig != FVH_SIGNATURE_VALUE || len < FVH_MIN_SIZE || len > size - off)
			return false;
		off += len;
	}
	return true;
}

static int refuse(char *err, const char *what)
{
	format_snprintf(err, GUEST_ERR_MAX, "%s", what);
	return -EINVAL;
}

int guest_firmware_check(const u8 *code, u64 code_size, const u8 *vars, u64 vars_size, char *err)
{
	if (code_size % PAGE_SIZE || (vars_size % PAGE_SIZE))
		return refuse(err, "firmware and variable store must be whole 4 KiB pages");
	if (code_size < FW_MIN_CODE || code_size + vars_size > GUEST_FW_MAX)
		return refuse(err, "firmware and variable store must be 64 KiB to 8 MiB together");
	if (!volumes_fill(code, code_size))
		return refuse(err, "the firmware is not UEFI firmware volumes up to its end "
				   "(truncated, or not an OVMF code image)");
	if (vars_size && !volumes_fill(vars, vars_size))
		return refuse(err, "the variable store is not one firmware volume of its size");
	return 0;
}
