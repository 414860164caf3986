/* SPDX-License-Identifier: MIT */
/* PCI configuration space as the specifications lay it out: shared by Keel, virtio/ and the tools. */
#ifndef LIB_PCI_REGS_H
#define LIB_PCI_REGS_H

#include <lib/types.h>

/* PCI Local Bus 3.0 3.2.2.3.2: configuration mechanism #1, CONFIG_ADDRESS and CONFIG_DATA. */
#define PCI_CONF1_ADDR 0xcf8
#define PCI_CONF1_DATA 0xcfc /* 0xcfc-0xcff */
#define PCI_CONF1_ENABLE BIT(31)

/* PCI LB 3.0 6.2 (PCIe 5.0 7.5.1): the configuration header. */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08 /* revision ID in byte 0, class code in bytes 1-3 */
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SECONDARY_BUS 0x19 /* type 1 (PCI-PCI bridge 1.2 3.2.5.4, 3.2.5.5) */
#define PCI_SUBORDINATE_BUS 0x1a
#define PCI_BRIDGE_MEM 0x20  /* type 1: memory base and limit (PCI-PCI bridge 1.2 3.2.5.8) */
#define PCI_BRIDGE_PREF 0x24 /* prefetchable base and limit */
#define PCI_BRIDGE_PREF_BASE_HI 0x28 /* their upper 32 bits */
#define PCI_BRIDGE_PREF_LIMIT_HI 0x2c
#define PCI_SUBSYS_VENDOR 0x2c
#define PCI_SUBSYS_ID 0x2e
#define PCI_ROM_TYPE0 0x30 /* expansion ROM base, type 0 header */
#define PCI_CAP_PTR 0x34
#define PCI_ROM_TYPE1 0x38 /* expansion ROM base, type 1 header */
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d
#define PCI_CAP_START 0x40 /* the first byte after the header */

/* PCI LB 3.0 6.2.2, 6.2.3: command and status bits. */
#define PCI_CMD_IO BIT(0)
#define PCI_CMD_MEMORY BIT(1)
#define PCI_CMD_MASTER BIT(2)
#define PCI_CMD_INTX_DISABLE BIT(10)
#define PCI_STATUS_INTERRUPT BIT(3)
#define PCI_STATUS_CAP_LIST BIT(4)

/* PCI LB 3.0 6.2.5.1, 6.2.5.2: base address registers and the expansion ROM. */
#define PCI_BAR_IO BIT(0)
#define PCI_BAR_TYPE_MASK 0x6
#define PCI_BAR_MEM64 0x4 /* type 10b: a 64-bit BAR, the next register holds bits 63:32 */
#define PCI_BAR_PREFETCH BIT(3)
#define PCI_BAR_IO_MASK (~0x3u)
#define PCI_BAR_MEM_MASK (~0xfu)
#define PCI_ROM_ENABLE BIT(0)
#define PCI_ROM_MASK (~0x7ffu) /* bits 31:11 */

/* PCI LB 3.0 6.7, appendix H: capability IDs. */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

/* PCI LB 3.0 6.8.1: the MSI capability (the data word follows a 32- or a 64-bit address). */
#define PCI_MSI_CTRL 2
#define PCI_MSI_ADDR_LO 4
#define PCI_MSI_ADDR_HI 8
#define PCI_MSI_DATA_32 8
#define PCI_MSI_DATA_64 12
#define PCI_MSI_CTRL_ENABLE BIT(0)
#define PCI_MSI_CTRL_MMC GENMASK(3, 1)
#define PCI_MSI_CTRL_MME GENMASK(6, 4)
#define PCI_MSI_CTRL_64BIT BIT(7)

/* PCI LB 3.0 6.8.2: the MSI-X capability, its message control and its table entries. */
#define PCI_MSIX_CTRL 2
#define PCI_MSIX_TABLE 4
#define PCI_MSIX_PBA 8
#define PCI_MSIX_CAP_LEN 12
#define PCI_MSIX_CTRL_SIZE GENMASK(10, 0) /* table size - 1 */
#define PCI_MSIX_CTRL_MASKALL BIT(14)
#define PCI_MSIX_CTRL_ENABLE BIT(15)
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_MASKED BIT(0) /* in the entry's vector control word */

#endif
