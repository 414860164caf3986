# What runs in the service VM: its initramfs.
KVER := $(shell ls /lib/modules 2>/dev/null | sort | tail -1)
SERVICE_MODULES := e1000e nvme virtio_net virtio_blk virtio_pci uio_pci_generic ahci tun bridge
$(BUILD)/service-initrd.img: tools/initramfs/mkinitramfs.py tools/initramfs/service-init
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/service-init \
		$(foreach m,$(SERVICE_MODULES),--module $(m))
