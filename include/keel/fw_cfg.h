/* SPDX-License-Identifier: MIT */
/* fw_cfg: QEMU's firmware configuration device for guests (QEMU docs/specs/fw_cfg.rst). */
#ifndef KEEL_FW_CFG_H
#define KEEL_FW_CFG_H

#include <lib/types.h>

struct vm;
struct guest_platform;

/* x86 ports (fw_cfg.rst "Register Locations"): selector, data, the 8-byte DMA address */
#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_PORT_DMA 0x514
#define FW_CFG_PORTS 12 /* 0x510-0x51b */

/* Keys (QEMU include/standard-headers/linux/qemu_fw_cfg.h) */
#define FW_CFG_SIGNATURE 0x0000 /* "QEMU" */
#define FW_CFG_ID 0x0001	/* features: bit 0 traditional interface, bit 1 DMA */
#define FW_CFG_RAM_SIZE 0x0003	/* u64 LE, bytes */
#define FW_CFG_NB_CPUS 0x0005	/* u16 LE, CPUs at boot */
#define FW_CFG_MAX_CPUS 0x000f	/* u16 LE, highest APIC ID + 1 */
#define FW_CFG_FILE_DIR 0x0019	/* struct FWCfgFiles, big-endian */
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_KEYS FW_CFG_FILE_FIRST /* numbered items Keel can hold: 0x0000-0x001f */
#define FW_CFG_MAX_FILES 16
#define FW_CFG_NAME_MAX 56 /* FWCfgFile.name, NUL included */

#define FW_CFG_ID_TRADITIONAL BIT(0)
#define FW_CFG_ID_DMA BIT(1)
#define FW_CFG_DMA_SIGNATURE "QEMU CFG" /* what the DMA address register reads as, bytewise */

/* FWCfgDmaAccess.control (fw_cfg.rst "Guest-side DMA Interface"), big-endian in guest RAM */
#define FW_CFG_DMA_ERROR BIT(0)
#define FW_CFG_DMA_READ BIT(1)
#define FW_CFG_DMA_SKIP BIT(2)
#define FW_CFG_DMA_SELECT BIT(3) /* the key is in bits 31:16 */
#define FW_CFG_DMA_WRITE BIT(4)

struct fw_cfg;

/*
 * Why it lives in the hypervisor: boot-time VMs have no service VM to ask,
 * and what it serves (CPU count, RAM, the memory map, ACPI tables) is Keel's
 * own knowledge of the VM; it is small, read-only for the guest, and its
 * one path into guest memory is vm_write_ram(), which touches nothing but
 * the VM's own RAM.
 *
 * Creates the device on the VM's ports; its items are added before the VM
 * runs (not thread-safe against the guest). NULL if out of memory.
 */
struct fw_cfg *fw_cfg_create(struct vm *vm);
/* A numbered item (key below FW_CFG_KEYS); the bytes are copied. -EINVAL, -ENOMEM. */
int fw_cfg_add(struct fw_cfg *f, u16 key, const void *data, u32 len);
/* A file item, listed in FW_CFG_FILE_DIR in name order; the bytes are copied. */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, u32 len);

/*
 * A guest's fw_cfg (vmm/guest/guest_fw_cfg.c): NB_CPUS, MAX_CPUS, RAM_SIZE,
 * etc/e820, and its ACPI tables for p through etc/table-loader,
 * etc/acpi/tables and etc/acpi/rsdp.
 */
int guest_fw_cfg_attach(struct vm *vm, const struct guest_platform *p);

#endif
