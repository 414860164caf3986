# physmem, one access of physical memory (a probe of what the service VM reaches): static, in its initramfs.
$(BUILD)/tools/physmem: tools/physmem/physmem.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -o $@ tools/physmem/physmem.c
