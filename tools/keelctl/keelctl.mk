# keelctl, a static binary for the service VM's initramfs.
KEELCTL_SRCS := tools/keelctl/keelctl.c tools/keelctl/ctl.c tools/keelctl/console.c
$(BUILD)/tools/keelctl: $(KEELCTL_SRCS) tools/keelctl/ctl.h include/keel/keelctl_abi.h
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -Wno-missing-prototypes -Iinclude -Itools/keelctl \
		-o $@ $(KEELCTL_SRCS)
