/* SPDX-License-Identifier: MIT */
/* keel.cfg: the parsed configuration and its parser (used by boot/, tested on the host). */
#ifndef KEEL_CONFIG_H
#define KEEL_CONFIG_H

#include <lib/types.h>

#define CONFIG_PATH_MAX 128
#define CONFIG_CMDLINE_MAX 1024
#define CONFIG_MAX_CPUS 64
#define CONFIG_MIN_SERVICE_MEMORY (64 * MiB)
#define CONFIG_MAX_VMS 16
#define CONFIG_VM_NAME_MAX 16
#define CONFIG_MIN_VM_MEMORY (2 * MiB)
/* OVMF uses 0x800000-0x1500000 by fixed address, and more */
#define CONFIG_MIN_FW_MEMORY (128 * MiB)
#define CONFIG_MAX_RESERVED_PCI 16

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* A VM started at boot from keel.cfg (vm.<name>.<key> = value). */
struct config_vm {
	char name[CONFIG_VM_NAME_MAX];
	char kernel[CONFIG_PATH_MAX];	/* "" when the VM boots firmware */
	char firmware[CONFIG_PATH_MAX]; /* UEFI firmware, as keelctl create --firmware */
	char vars[CONFIG_PATH_MAX];	/* its variable store template ("" = none), read-only */
	char cmdline[CONFIG_PATH_MAX];
	/* initrd = "FILE ARGS": FILE is loaded, the whole text is module 0's command line */
	char initrd[CONFIG_PATH_MAX]; /* "" = none */
	char initrd_cmdline[CONFIG_PATH_MAX];
	u64 memory;
	u32 vcpus;
	u32 first_cpu; /* vCPU i runs on physical CPU (first_cpu + i) mod CPU count */
	bool testdev;  /* the diagnostic device that test guests use */
};

struct keel_config {
	u16 serial_port; /* I/O port of the 16550; 0 = none */
	u32 serial_baud;
	u32 log_level;	     /* enum log_level */
	u16 debug_exit_port; /* test rigs: write the final status here; 0 = off */
	char service_kernel[CONFIG_PATH_MAX];
	char service_initrd[CONFIG_PATH_MAX]; /* "" = none */
	char service_cmdline[CONFIG_CMDLINE_MAX];
	u64 service_memory; /* bytes */
	u32 service_vcpus;
	u64 control_window;  /* bytes of the control device's guest RAM window */
	bool iommu_required; /* no service VM without an IOMMU to confine its devices' DMA */
	u32 nr_vms;
	struct config_vm vms[CONFIG_MAX_VMS];
	u32 nr_pci_reserved;
	/* bus << 8 | dev << 3 | fn: kept from the service VM */
	u16 pci_reserved[CONFIG_MAX_RESERVED_PCI];
};

/*
 * Parses the text of keel.cfg (len bytes, need not be NUL-terminated) into
 * cfg, starting from defaults. On error returns -EINVAL and writes a one-line
 * message naming the line to err; cfg is then unspecified.
 */
int config_parse(const char *text, size_t len, struct keel_config *cfg, char *err, size_t err_size);

/* Pool memory no VM may take: Keel's own tables and buffers come from it. */
#define KEEL_POOL_RESERVE (64 * MiB)

/*
 * Whether the VMs keel.cfg starts at boot (the service VM, boot-time VMs) fit in
 * usable bytes of RAM with KEEL_POOL_RESERVE to spare; -ENOMEM with a message if not.
 */
int config_check_memory(const struct keel_config *cfg, u64 usable, char *err, size_t err_size);

/* Parses "512M", "2G", "65536K", "1048576" (bytes) into *out. */
int config_parse_size(const char *s, u64 *out);

#endif
