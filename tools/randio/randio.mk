# randio, a static 4 KiB random I/O benchmark for the guest initramfs: `make bench` runs it on a guest's virtio disk.
$(BUILD)/tools/randio: tools/randio/randio.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -o $@ tools/randio/randio.c
