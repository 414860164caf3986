# keel-dm, the device-model daemon: a static binary for the service VM's initramfs, with virtio/ inside.
KEEL_DM_SRCS := $(filter-out %/main.c,$(wildcard tools/keel-dm/*.c tools/keel-dm/flash/*.c tools/keel-dm/kbc/*.c)) tools/lib/ctl.c \
	$(VIRTIO_SRCS) lib/format.c
$(BUILD)/tools/keel-dm: tools/keel-dm/main.c $(KEEL_DM_SRCS) tools/keel-dm/dm.h tools/keel-dm/flash/cfi.h tools/keel-dm/kbc/i8042.h \
		tools/lib/ctl.h \
		$(wildcard include/*/*.h include/uapi/*/*.h)
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -Iinclude -Itools/lib -o $@ tools/keel-dm/main.c $(KEEL_DM_SRCS)
