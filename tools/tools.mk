# What runs in the service VM: its initramfs.
KVER := $(shell ls /lib/modules 2>/dev/null | sort | tail -1)
SERVICE_MODULES := e1000e nvme virtio_net virtio_blk virtio_pci uio_pci_generic ahci tun bridge \
	xhci_pci usb_storage sd_mod vfat nls_cp437 nls_ascii
GUEST_MODULES := button evdev
$(BUILD)/service-initrd.img: tools/initramfs/mkinitramfs.py tools/initramfs/service-init $(BUILD)/tools/keelctl
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/service-init \
		$(foreach m,$(SERVICE_MODULES),--module $(m)) --file bin/keelctl=$(BUILD)/tools/keelctl

# A guest's initramfs: busybox, the power button handler, a shell on ttyS0.
$(BUILD)/guest-initrd.img: tools/initramfs/mkinitramfs.py tools/initramfs/guest-init
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/guest-init \
		$(foreach m,$(GUEST_MODULES),--module $(m))
