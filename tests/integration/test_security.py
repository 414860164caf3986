# SPDX-License-Identifier: MIT
"""Attacks on Keel from the service VM and from guests, and bad configurations: each is
refused, says why, and leaves Keel, the service VM and the other VMs as they were."""
import os

from rig import BUILD, Machine, check, kernel_path

INITRD = os.path.join(BUILD, "service-initrd.img")


def test_service_memory_beyond_the_machine():
    """service.memory larger than the machine's RAM is refused by the boot stub, which hands
    control back to the firmware before anything is allocated (and without exiting it)."""
    cfg = "service.kernel = vmlinuz\nservice.initrd = initrd.img\nservice.memory = 4G\n"
    files = {"vmlinuz": kernel_path(), "initrd.img": INITRD}
    with Machine("security_service_memory", cfg, files, smp=1, mem="2G", timeout=90) as m:
        m.expect(r"keel\.cfg asks for 4096 MiB of RAM for its VMs \(service\.memory and "
                 r"vm\.\*\.memory\), but the machine has \d+ MiB usable and Keel keeps 64 MiB",
                 timeout=80)
        m.expect(r"boot stopped; nothing was changed", timeout=10)
        m.expect(r"BdsDxe: failed to start Boot0001", timeout=20)
        check("exiting boot services" not in m.text(), "boot services were exited", m)
