// SPDX-License-Identifier: MIT
/* Boot-time messages: the UEFI text console, plus the serial port when the firmware does not mirror it. */
#include "efi_boot.h"
#include <lib/format.h>
#include <lib/string.h>
#include <keel/uart.h>

EFI_SYSTEM_TABLE *efi_st;
EFI_BOOT_SERVICES *efi_bs;

static bool fw_serial; /* ConOut already includes a UART */
static bool own_serial;

/* UEFI 2.10 10.3.4.1: messaging device path, UART subtype. */
#define DP_TYPE_MESSAGING 0x03
#define DP_SUBTYPE_UART 0x0e

static bool device_path_has_uart(const u8 *dp, UINTN size)
{
	UINTN off = 0;

	while (off + 4 <= size) {
		u8 type = dp[off], subtype = dp[off + 1];
		u16 len = (u16)(dp[off + 2] | dp[off + 3] << 8);

		if (type == DP_TYPE_MESSAGING && subtype == DP_SUBTYPE_UART)
			return true;
		if (len < 4)
			break;
		off += len;
	}
	return false;
}

void efi_console_init(void)
{
	EFI_GUID global = EFI_GLOBAL_VARIABLE;
	static u8 buf[2048];
	UINTN size = sizeof(buf);
	EFI_STATUS st;

	st = efi_st->RuntimeServices->GetVariable(L"ConOut", &global, NULL, &size, buf);
	fw_serial = !EFI_ERROR(st) && device_path_has_uart(buf, size);
}

bool efi_console_firmware_serial(void)
{
	return fw_serial;
}

void efi_console_set_serial(u16 port, u32 baud)
{
	own_serial = !fw_serial && port;
	if (own_serial)
		uart_init(port, baud);
}

void efi_print(const char *fmt, ...)
{
	char msg[512];
	CHAR16 wide[2 * sizeof(msg)];
	size_t n, w = 0;
	va_list ap;

	va_start(ap, fmt);
	format_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	for (size_t i = 0; i < n; i++) {
		if (msg[i] == '\n')
			wide[w++] = L'\r';
		wide[w++] = (CHAR16)(u8)msg[i];
	}
	wide[w] = 0;
	efi_st->ConOut->OutputString(efi_st->ConOut, wide);
	if (own_serial)
		uart_write(msg, n);
}

const char *efi_status_str(EFI_STATUS st)
{
	switch (st) {
	case EFI_SUCCESS:
		return "success";
	case EFI_NOT_FOUND:
		return "not found";
	case EFI_OUT_OF_RESOURCES:
		return "out of memory";
	case EFI_INVALID_PARAMETER:
		return "invalid parameter";
	case EFI_DEVICE_ERROR:
		return "device error";
	case EFI_ACCESS_DENIED:
		return "access denied";
	case EFI_VOLUME_CORRUPTED:
		return "volume corrupted";
	case EFI_UNSUPPORTED:
		return "unsupported";
	case EFI_BUFFER_TOO_SMALL:
		return "buffer too small";
	default:
		return "error";
	}
}
