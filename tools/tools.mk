# What runs in the service VM: its initramfs.
KVER := $(shell ls /lib/modules 2>/dev/null | sort | tail -1)
SERVICE_MODULES := e1000e nvme virtio_net virtio_blk virtio_pci uio_pci_generic ahci tun bridge \
	xhci_pci usb_storage sd_mod vfat nls_cp437 nls_ascii loop
# Guests: keel-dm's virtio devices (mkinitramfs.py adds virtio, virtio_ring, the virtio_pci_*_dev
# libraries, mbcache, jbd2 and crc16 from modules.dep) and ext4, which mounts ext2 too; crc32c is
# only a soft dependency of ext4 and jbd2, so it is named. virtio-gpu brings drm, drm_kms_helper
# and drm_shmem_helper; its fbdev emulation gives fbcon and /dev/fb0. efivarfs: a UEFI guest's
# variables as files.
GUEST_MODULES := button evdev virtio_pci virtio_blk virtio_net virtio_console virtio-rng \
	virtio-gpu virtio_input crc32c_generic ext4 efivarfs
$(BUILD)/service-initrd.img: tools/tools.mk tools/initramfs/mkinitramfs.py tools/initramfs/service-init $(BUILD)/tools/keelctl \
		$(BUILD)/tools/keel-dm $(BUILD)/tools/keel-vnc $(BUILD)/tools/physmem $(BUILD)/tools/nvmedma
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/service-init \
		$(foreach m,$(SERVICE_MODULES),--module $(m)) --file bin/keelctl=$(BUILD)/tools/keelctl \
		--file bin/keel-dm=$(BUILD)/tools/keel-dm --dynamic bin/keel-vnc=$(BUILD)/tools/keel-vnc \
		--file bin/physmem=$(BUILD)/tools/physmem --file bin/nvmedma=$(BUILD)/tools/nvmedma

# A guest's initramfs: busybox, the power button handler, a shell on the console it was given,
# and randio for `make bench`'s random I/O on a guest's disk.
$(BUILD)/guest-initrd.img: tools/tools.mk tools/initramfs/mkinitramfs.py tools/initramfs/guest-init $(BUILD)/tools/randio
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/guest-init \
		$(foreach m,$(GUEST_MODULES),--module $(m)) --file bin/randio=$(BUILD)/tools/randio

# make bench's KVM peer: Debian's kernel (the service VM's) runs this initramfs as an L1
# hypervisor under the same outer QEMU as Keel: kvm-amd (with ccp, kvm and irqbypass from
# modules.dep), vhost_net, tun and bridge for the network parts, the host's own QEMU with every
# library ldd names and the firmware a -kernel boot reads at QEMU's built-in firmware paths
# (SeaBIOS, the linuxboot/multiboot/PVH option ROMs, kvmvapic, stdvga's BIOS, virtio-net's iPXE
# ROM), and the guests themselves: the same kernel, guest initramfs and exit-cost guest.
KVM_PEER_MODULES := kvm_amd vhost_net tun bridge
KVM_PEER_FIRMWARE := /usr/share/seabios/bios-256k.bin /usr/share/seabios/vgabios-stdvga.bin \
	/usr/share/qemu/linuxboot_dma.bin /usr/share/qemu/linuxboot.bin /usr/share/qemu/multiboot_dma.bin \
	/usr/share/qemu/multiboot.bin /usr/share/qemu/pvh.bin /usr/share/qemu/kvmvapic.bin \
	/usr/lib/ipxe/qemu/efi-virtio.rom
$(BUILD)/kvm-initrd.img: tools/tools.mk tools/initramfs/mkinitramfs.py tools/initramfs/kvm-init \
		$(BUILD)/guest-initrd.img $(BUILD)/guests/exitcost.elf $(KERNEL) /usr/bin/qemu-system-x86_64
	@mkdir -p $(dir $@)
	$(PYTHON) tools/initramfs/mkinitramfs.py $@ --init tools/initramfs/kvm-init \
		$(foreach m,$(KVM_PEER_MODULES),--module $(m)) \
		--dynamic usr/bin/qemu-system-x86_64=/usr/bin/qemu-system-x86_64 \
		$(foreach f,$(KVM_PEER_FIRMWARE),--file $(f)=$(f)) \
		--file guest/vmlinuz=$(KERNEL) --file guest/initrd.img=$(BUILD)/guest-initrd.img \
		--file guest/exitcost.elf=$(BUILD)/guests/exitcost.elf
