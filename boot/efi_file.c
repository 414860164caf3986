// SPDX-License-Identifier: MIT
/* Reading keel.cfg and the files it names from the volume keel.efi was started from. */
#include "efi_boot.h"
#include <lib/string.h>

EFI_FILE_HANDLE efi_open_boot_volume(EFI_HANDLE image, EFI_LOADED_IMAGE **li_out)
{
	EFI_GUID li_guid = EFI_LOADED_IMAGE_PROTOCOL_GUID;
	EFI_GUID fs_guid = EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID;
	EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
	EFI_LOADED_IMAGE *li;
	EFI_FILE_HANDLE root;
	EFI_STATUS st;

	st = efi_bs->HandleProtocol(image, &li_guid, (void **)&li);
	if (EFI_ERROR(st)) {
		efi_print("keel: cannot find my own loaded image: %s\n", efi_status_str(st));
		return NULL;
	}
	*li_out = li;
	st = efi_bs->HandleProtocol(li->DeviceHandle, &fs_guid, (void **)&fs);
	if (EFI_ERROR(st)) {
		efi_print("keel: the volume I was started from has no file system: %s\n",
			  efi_status_str(st));
		return NULL;
	}
	st = fs->OpenVolume(fs, &root);
	if (EFI_ERROR(st)) {
		efi_print("keel: cannot open the boot volume: %s\n", efi_status_str(st));
		return NULL;
	}
	return root;
}

/* "boot/vmlinuz" -> L"\\boot\\vmlinuz" */
static void to_efi_path(const char *path, CHAR16 *out, size_t max)
{
	size_t n = 0;

	out[n++] = L'\\';
	while (*path == '/' || *path == '\\')
		path++;
	for (; *path && n + 1 < max; path++)
		out[n++] = (*path == '/') ? L'\\' : (CHAR16)(u8)*path;
	out[n] = 0;
}

static EFI_STATUS file_size(EFI_FILE_HANDLE f, u64 *size)
{
	EFI_GUID info_guid = EFI_FILE_INFO_ID;
	u8 buf[sizeof(EFI_FILE_INFO) + 512] __aligned(8);
	UINTN len = sizeof(buf);
	EFI_STATUS st;

	st = f->GetInfo(f, &info_guid, &len, buf);
	if (EFI_ERROR(st))
		return st;
	if (((EFI_FILE_INFO *)buf)->Attribute & EFI_FILE_DIRECTORY)
		return EFI_ACCESS_DENIED;
	*size = ((EFI_FILE_INFO *)buf)->FileSize;
	return EFI_SUCCESS;
}

EFI_STATUS efi_read_file(EFI_FILE_HANDLE root, const char *path, u64 *base, u64 *size)
{
	CHAR16 wpath[CONFIG_PATH_MAX + 2];
	EFI_PHYSICAL_ADDRESS addr = 0;
	EFI_FILE_HANDLE f;
	UINTN pages, len;
	EFI_STATUS st;

	to_efi_path(path, wpath, ARRAY_SIZE(wpath));
	st = root->Open(root, &f, wpath, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(st))
		return st;
	st = file_size(f, size);
	if (EFI_ERROR(st))
		goto out_close;
	pages = (UINTN)(ALIGN_UP(*size, PAGE_SIZE) / PAGE_SIZE);
	st = efi_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages ? pages : 1, &addr);
	if (EFI_ERROR(st))
		goto out_close;
	len = (UINTN)*size;
	st = f->Read(f, &len, (void *)(uintptr_t)addr);
	if (!EFI_ERROR(st) && len != *size)
		st = EFI_DEVICE_ERROR;
	if (EFI_ERROR(st))
		efi_bs->FreePages(addr, pages ? pages : 1);
	else
		*base = addr;
out_close:
	f->Close(f);
	return st;
}
