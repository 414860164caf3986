/* SPDX-License-Identifier: MIT */
/* Shared by the UEFI boot stub's files: console output and file loading before ExitBootServices. */
#ifndef BOOT_EFI_BOOT_H
#define BOOT_EFI_BOOT_H

#include <efi.h>
#include <keel/boot_info.h>

extern EFI_SYSTEM_TABLE *efi_st;
extern EFI_BOOT_SERVICES *efi_bs;

/* Prints on the UEFI console and, if the firmware does not mirror it there, the serial port. */
void efi_print(const char *fmt, ...) __printf(1, 2);
void efi_console_init(void);
void efi_console_set_serial(u16 port, u32 baud);
bool efi_console_firmware_serial(void);
const char *efi_status_str(EFI_STATUS st);

EFI_FILE_HANDLE efi_open_boot_volume(EFI_HANDLE image, EFI_LOADED_IMAGE **li_out);
/* Reads a whole file into fresh EfiLoaderData pages; *size gets the byte count. */
EFI_STATUS efi_read_file(EFI_FILE_HANDLE root, const char *path, u64 *base, u64 *size);

/* RAM Keel's pool will hold (free and boot-services memory), read before ExitBootServices. */
u64 efi_usable_ram(void);
/* Fills bi->map from a UEFI memory map; called after ExitBootServices. */
void efi_convert_memory_map(struct boot_info *bi, const void *map, UINTN map_size, UINTN desc_size);

/* Switches to the core's stack and calls core_main(bi); never returns. */
void boot_enter_core(struct boot_info *bi, u64 stack_top) __noreturn;
/* Called by GNU-EFI's crt0 with the SysV ABI, after it has relocated the image. */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

#endif
