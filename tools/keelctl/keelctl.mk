# keelctl, a static binary for the service VM's initramfs.
KEELCTL_SRCS := tools/keelctl/keelctl.c tools/lib/ctl.c tools/keelctl/console.c \
	tools/keelctl/create.c tools/keelctl/dm_client.c tools/keelctl/screenshot.c \
	tools/keelctl/png.c tools/keelctl/restart.c lib/crc32.c
$(BUILD)/tools/keelctl: $(KEELCTL_SRCS) tools/lib/ctl.h tools/keelctl/keelctl.h \
		tools/keelctl/png.h tools/lib/screen.h include/uapi/keel/keelctl_abi.h
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -Iinclude -Itools/lib \
		-o $@ $(KEELCTL_SRCS)
