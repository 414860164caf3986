/* SPDX-License-Identifier: MIT */
/* Starting the VMs keel.cfg defines (vm.<name>.*) at boot. */
#ifndef KEEL_BOOT_VMS_H
#define KEEL_BOOT_VMS_H

#include <keel/boot_info.h>

/* Creates, loads and starts each; a VM that cannot be built is reported and skipped. */
void boot_vms_start(const struct boot_info *bi);

#endif
