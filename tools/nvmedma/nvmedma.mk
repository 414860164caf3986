# nvmedma, an NVMe made to DMA where its driver never would (the IOMMU tests' attack): static, in the service initramfs.
$(BUILD)/tools/nvmedma: tools/nvmedma/nvmedma.c
	@mkdir -p $(dir $@)
	@echo "  TOOL    $@"
	$(Q)$(CC) -std=gnu11 -O2 -g -static $(WARN) -o $@ tools/nvmedma/nvmedma.c
