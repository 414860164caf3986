# UEFI boot stub (GNU-EFI) and the freestanding pieces it shares with host tests.
BOOT_EFI_SRCS := boot/efi_main.c boot/efi_console.c boot/efi_file.c boot/efi_mmap.c boot/efi_entry.S
CORE_SRCS += boot/config.c boot/mem_map.c
