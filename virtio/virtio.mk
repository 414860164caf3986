# virtio device models: freestanding, built into keel-dm and the host tests, never into the core.
VIRTIO_SRCS := virtio/guest_mem.c virtio/queue/virtqueue.c virtio/queue/vq_chain.c \
	virtio/queue/vq_split.c virtio/queue/vq_packed.c virtio/virtio_dev.c \
	virtio/pci/virtio_pci.c virtio/pci/virtio_pci_bar.c virtio/pci/virtio_pci_common.c \
	virtio/pci/virtio_pci_msix.c virtio/dev/blk.c virtio/dev/net.c virtio/dev/net_rx.c \
	virtio/dev/console.c virtio/dev/rng.c virtio/queue/vq_journal.c virtio/virtio_dev_state.c \
	virtio/pci/virtio_pci_state.c virtio/dev/gpu.c virtio/dev/gpu_edid.c virtio/dev/input.c
VIRTIO_TEST_SRCS := $(VIRTIO_SRCS) tests/unit/virtio/virtio_driver_sim.c tests/unit/virtio/mem_disk.c lib/format.c

UNIT_TESTS += virtio_queue virtio_pci virtio_blk virtio_net virtio_console \
	virtio_rng virtio_hostile virtio_state virtio_gpu virtio_input
UNIT_SRCS_virtio_queue := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_pci := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_blk := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_net := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_console := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_rng := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_hostile := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_state := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_gpu := $(VIRTIO_TEST_SRCS)
UNIT_SRCS_virtio_input := $(VIRTIO_TEST_SRCS)

FUZZ_TARGETS += virtqueue virtio_blk virtio_gpu virtio_input
FUZZ_SRCS_virtqueue := $(VIRTIO_SRCS) lib/format.c
FUZZ_SRCS_virtio_blk := $(VIRTIO_SRCS) tests/unit/virtio/virtio_driver_sim.c lib/format.c
FUZZ_SRCS_virtio_gpu := $(VIRTIO_SRCS) tests/unit/virtio/virtio_driver_sim.c lib/format.c
FUZZ_SRCS_virtio_input := $(VIRTIO_SRCS) tests/unit/virtio/virtio_driver_sim.c lib/format.c
