// SPDX-License-Identifier: MIT
/* virtio-pci transport tests: config space, capabilities, BARs, negotiation, reset, ISR, MSI-X. */
#include <stdlib.h>
#include "test.h"
#include "mem_disk.h"
#include "virtio_driver_sim.h"
#include <virtio/rng.h>
#include <virtio/blk.h>

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)
#define ST_FEATURES (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK)

static struct virtio_rng rng;
static struct virtio_blk blk;
static struct vsim sim;
static u8 disk[64 * 1024];
static struct mem_disk mem = { disk, sizeof(disk) };

static int rng_fill(void *ctx, void *buf, u32 len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
	return (int)len;
}

static const struct virtio_rng_ops rng_ops = { .fill = rng_fill };

static void rng_setup(void)
{
	CHECK_EQ(virtio_rng_init(&rng, 8, &rng_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &rng.dev, 1 << 20), 0);
}

static void blk_setup(void)
{
	struct virtio_blk_params p = { .capacity = sizeof(disk), .serial = "pci" };

	CHECK_EQ(virtio_blk_init(&blk, &p, &mem_disk_ops, &mem), 0);
	CHECK_EQ(vsim_init(&sim, &blk.dev, 1 << 20), 0);
}

/* One 16-byte rng request on queue 0; returns the bytes used. */
static u32 rng_request(void)
{
	struct vsim_seg seg = { vsim_alloc(&sim, 16, 8), 16 };
	u32 id, len = 0;

	vsim_post(&sim, 0, &seg, 0, 1, false);
	vsim_kick(&sim, 0);
	return vsim_used(&sim, 0, &id, &len) == 1 ? len : 0;
}

TEST(pci_ids_and_header)
{
	rng_setup();
	CHECK_EQ(vsim_cfg_read(&sim, 0x00, 2), 0x1af4);
	CHECK_EQ(vsim_cfg_read(&sim, 0x02, 2), 0x1044);
	CHECK_EQ(vsim_cfg_read(&sim, 0x08, 1), 1); /* non-transitional */
	CHECK_EQ(vsim_cfg_read(&sim, 0x08, 4) >> 8, 0xff0000);
	CHECK_EQ(vsim_cfg_read(&sim, 0x0e, 1), 0);
	CHECK_EQ(vsim_cfg_read(&sim, 0x2c, 2), 0x1af4);
	CHECK(vsim_cfg_read(&sim, 0x2e, 2) >= 0x40);
	CHECK(vsim_cfg_read(&sim, 0x06, 2) & 0x10);
	CHECK_EQ(vsim_cfg_read(&sim, 0x3d, 1), 1);
	vsim_cfg_write(&sim, 0x00, 4, 0);
	CHECK_EQ(vsim_cfg_read(&sim, 0x00, 2), 0x1af4);
	vsim_free(&sim);
}

TEST(pci_capability_list)
{
	u32 seen = 0, at, guard = 0;

	blk_setup();
	for (at = vsim_cfg_read(&sim, 0x34, 1); at && guard < 16; guard++) {
		u8 id = (u8)vsim_cfg_read(&sim, at, 1);

		CHECK_EQ(at % 4, 0);
		if (id == 0x11) {
			CHECK_EQ(vsim_cfg_read(&sim, at + 2, 2) & 0x7ff, 1); /* 2 vectors */
			CHECK_EQ(vsim_cfg_read(&sim, at + 4, 4), 0x000 | 2);
			CHECK_EQ(vsim_cfg_read(&sim, at + 8, 4), 0x800 | 2);
			seen |= 1u << 6;
		} else {
			u8 type = (u8)vsim_cfg_read(&sim, at + 3, 1);

			CHECK_EQ(id, 0x09);
			CHECK(type >= 1 && type <= 5);
			seen |= 1u << type;
			if (type != VIRTIO_PCI_CAP_PCI_CFG)
				CHECK_EQ(vsim_cfg_read(&sim, at + 4, 1), 0);
			if (type == VIRTIO_PCI_CAP_NOTIFY_CFG) {
				CHECK_EQ(vsim_cfg_read(&sim, at + 2, 1), 20);
				CHECK_EQ(vsim_cfg_read(&sim, at + 16, 4), 4);
			}
			if (type == VIRTIO_PCI_CAP_DEVICE_CFG)
				CHECK_EQ(vsim_cfg_read(&sim, at + 12, 4),
					 sizeof(struct virtio_blk_config));
			if (type == VIRTIO_PCI_CAP_COMMON_CFG)
				CHECK(vsim_cfg_read(&sim, at + 12, 4) >= 0x3c);
		}
		at = vsim_cfg_read(&sim, at + 1, 1);
	}
	CHECK_EQ(at, 0);
	CHECK_EQ(seen, 0x7e);
	vsim_free(&sim);
}

TEST(pci_bar_sizing_and_address)
{
	rng_setup();
	vsim_cfg_write(&sim, 0x10, 4, 0xffffffff);
	vsim_cfg_write(&sim, 0x14, 4, 0xffffffff);
	CHECK_EQ(vsim_cfg_read(&sim, 0x10, 4), 0xffffc004);
	CHECK_EQ(vsim_cfg_read(&sim, 0x14, 4), 0xffffffff);
	vsim_cfg_write(&sim, 0x18, 4, 0xffffffff);
	CHECK_EQ(vsim_cfg_read(&sim, 0x18, 4), 0xfffff004);
	vsim_cfg_write(&sim, 0x20, 4, 0xffffffff);
	CHECK_EQ(vsim_cfg_read(&sim, 0x20, 4), 0);
	vsim_cfg_write(&sim, 0x10, 4, 0xc0000000);
	vsim_cfg_write(&sim, 0x14, 4, 0x1);
	CHECK_EQ(virtio_pci_bar_addr(&sim.vp, 0), 0); /* memory decode off */
	vsim_cfg_write(&sim, 0x04, 2, 0x2);
	CHECK_EQ(virtio_pci_bar_addr(&sim.vp, 0), 0x1c0000000ULL);
	CHECK_EQ(virtio_pci_bar_size(0), 0x4000);
	CHECK_EQ(virtio_pci_bar_size(4), 0);
	vsim_free(&sim);
}

TEST(pci_feature_negotiation)
{
	u64 got;

	rng_setup();
	CHECK_EQ(vsim_probe(&sim), 0);
	vsim_common_write(&sim, COMMON(device_feature_select), 4, 1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(device_feature), 4) & 1, 1);
	vsim_common_write(&sim, COMMON(device_feature_select), 4, 2);
	CHECK_EQ(vsim_common_read(&sim, COMMON(device_feature), 4), 0);
	/* Without VERSION_1 FEATURES_OK does not stick (virtio 1.2 6.1). */
	CHECK_EQ(vsim_negotiate(&sim, VIRTIO_F_EVENT_IDX), 0);
	CHECK(!(vsim_status(&sim) & VIRTIO_STATUS_FEATURES_OK));
	got = vsim_negotiate(&sim, ~0ULL);
	CHECK_EQ(got, VIRTIO_TRANSPORT_FEATURES);
	/* Changing features after FEATURES_OK is ignored. */
	vsim_common_write(&sim, COMMON(driver_feature_select), 4, 0);
	vsim_common_write(&sim, COMMON(driver_feature), 4, 0);
	CHECK_EQ(sim.dev->driver_features, VIRTIO_TRANSPORT_FEATURES);
	vsim_free(&sim);
}

TEST(pci_queue_registers)
{
	rng_setup();
	CHECK_EQ(vsim_probe(&sim), 0);
	vsim_negotiate(&sim, VIRTIO_F_VERSION_1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(num_queues), 2), 1);
	vsim_common_write(&sim, COMMON(queue_select), 2, 1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_size), 2), 0);
	vsim_common_write(&sim, COMMON(queue_select), 2, 0);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_size), 2), 8);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_msix_vector), 2), 0xffff);
	vsim_common_write(&sim, COMMON(queue_msix_vector), 2, 7); /* no such vector */
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_msix_vector), 2), 0xffff);
	vsim_common_write(&sim, COMMON(queue_msix_vector), 2, 1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_msix_vector), 2), 1);
	vsim_common_write(&sim, COMMON(queue_desc), 4, 0x12345000);
	vsim_common_write(&sim, COMMON(queue_desc) + 4, 4, 0x1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_desc), 8), 0x112345000ULL);
	vsim_common_write(&sim, COMMON(queue_enable), 2, 1);
	vsim_common_write(&sim, COMMON(queue_size), 2, 4); /* enabled: ignored */
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_size), 2), 8);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_enable), 2), 1);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_notify_off), 2), 0);
	vsim_free(&sim);
}

TEST(pci_reset_clears_everything)
{
	rng_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX, 1), 0);
	CHECK_EQ(rng_request(), 16);
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	CHECK_EQ(vsim_status(&sim), 0);
	CHECK_EQ(sim.dev->driver_features, 0);
	CHECK_EQ(vsim_common_read(&sim, COMMON(config_msix_vector), 2), 0xffff);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_enable), 2), 0);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_msix_vector), 2), 0xffff);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_desc), 8), 0);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_size), 2), 8);
	/* And the device comes back up from scratch. */
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1 | VIRTIO_F_RING_PACKED, 1), 0);
	CHECK_EQ(rng_request(), 16);
	vsim_free(&sim);
}

TEST(pci_isr_and_intx)
{
	rng_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1, 1), 0);
	vsim_cfg_write(&sim, sim.msix_cap + 2, 2, 0); /* MSI-X off: INTx */
	CHECK_EQ(rng_request(), 16);
	CHECK(sim.intx);
	CHECK(vsim_cfg_read(&sim, 0x06, 2) & 0x08);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.isr, 1), VIRTIO_PCI_ISR_QUEUE);
	CHECK(!sim.intx);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.isr, 1), 0);
	CHECK(!(vsim_cfg_read(&sim, 0x06, 2) & 0x08));
	vsim_cfg_write(&sim, 0x04, 2, 0x406); /* INTx disable */
	CHECK_EQ(rng_request(), 16);
	CHECK(!sim.intx);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.isr, 1), VIRTIO_PCI_ISR_QUEUE);
	CHECK_EQ(sim.msi_count, 0);
	vsim_free(&sim);
}

TEST(pci_msix_mask_and_pba)
{
	rng_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1, 1), 0);
	vsim_bar_write(&sim, 2, 1 * 16 + 12, 4, 1); /* mask vector 1 */
	CHECK_EQ(rng_request(), 16);
	CHECK_EQ(sim.msi_vec[1], 0);
	CHECK_EQ(vsim_bar_read(&sim, 2, 0x800, 8), 2);
	vsim_bar_write(&sim, 2, 1 * 16 + 12, 4, 0);
	CHECK_EQ(sim.msi_vec[1], 1);
	CHECK_EQ(vsim_bar_read(&sim, 2, 0x800, 4), 0);
	/* Function mask holds everything back, too. */
	vsim_cfg_write(&sim, sim.msix_cap + 2, 2, 0xc000);
	CHECK_EQ(rng_request(), 16);
	CHECK_EQ(sim.msi_vec[1], 1);
	vsim_cfg_write(&sim, sim.msix_cap + 2, 2, 0x8000);
	CHECK_EQ(sim.msi_vec[1], 2);
	/* Entries read back as written; 64-bit accesses work. */
	CHECK_EQ(vsim_bar_read(&sim, 2, 16, 8), VSIM_MSI_ADDR);
	CHECK_EQ(vsim_bar_read(&sim, 2, 24, 4), VSIM_MSI_DATA_BASE + 1);
	CHECK_EQ(sim.msi_bad, 0);
	/* Unmapping the queue's vector silences it (virtio 1.2 4.1.5.3.1). */
	vsim_common_write(&sim, COMMON(queue_select), 2, 0);
	vsim_common_write(&sim, COMMON(queue_msix_vector), 2, 0xffff);
	CHECK_EQ(rng_request(), 16);
	CHECK_EQ(sim.msi_count, 2);
	vsim_free(&sim);
}

TEST(pci_config_change_and_generation)
{
	u8 gen;

	blk_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1, 1), 0);
	gen = (u8)vsim_common_read(&sim, COMMON(config_generation), 1);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 8), sizeof(disk) / 512);
	virtio_blk_set_capacity(&blk, 2 * sizeof(disk));
	CHECK_EQ(sim.msi_vec[0], 1);
	CHECK((u8)vsim_common_read(&sim, COMMON(config_generation), 1) != gen);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device, 4), 2 * sizeof(disk) / 512);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.isr, 1) & VIRTIO_PCI_ISR_CONFIG, VIRTIO_PCI_ISR_CONFIG);
	/* Reads past the structure are harmless zeroes. */
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 0x48, 4), 0);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 0xffc, 4), 0);
	vsim_free(&sim);
}

/* virtio 1.2 4.1.4.9: the same registers through PCI configuration space. */
TEST(pci_cfg_access_window)
{
	u32 at, guard = 0;

	rng_setup();
	CHECK_EQ(vsim_probe(&sim), 0);
	for (at = vsim_cfg_read(&sim, 0x34, 1); at && guard < 16; guard++) {
		if (vsim_cfg_read(&sim, at, 1) == 0x09 &&
		    vsim_cfg_read(&sim, at + 3, 1) == VIRTIO_PCI_CAP_PCI_CFG)
			break;
		at = vsim_cfg_read(&sim, at + 1, 1);
	}
	CHECK(at);
	vsim_cfg_write(&sim, at + 4, 1, 0);
	vsim_cfg_write(&sim, at + 8, 4, sim.common + COMMON(num_queues));
	vsim_cfg_write(&sim, at + 12, 4, 2);
	CHECK_EQ(vsim_cfg_read(&sim, at + 16, 4), 1);
	vsim_cfg_write(&sim, at + 8, 4, sim.common + COMMON(device_status));
	vsim_cfg_write(&sim, at + 12, 4, 1);
	vsim_cfg_write(&sim, at + 16, 1, VIRTIO_STATUS_ACKNOWLEDGE);
	CHECK_EQ(vsim_status(&sim), VIRTIO_STATUS_ACKNOWLEDGE);
	/* A bogus BAR or length through the window does nothing. */
	vsim_cfg_write(&sim, at + 4, 1, 7);
	CHECK_EQ(vsim_cfg_read(&sim, at + 16, 4), 0);
	vsim_cfg_write(&sim, at + 4, 1, 0);
	vsim_cfg_write(&sim, at + 12, 4, 3);
	vsim_cfg_write(&sim, at + 16, 4, 0);
	CHECK_EQ(vsim_status(&sim), VIRTIO_STATUS_ACKNOWLEDGE);
	vsim_free(&sim);
}

TEST(pci_notify_gating)
{
	rng_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1, 1), 0);
	vsim_cfg_write(&sim, 0x04, 2, 0x2); /* bus mastering off */
	CHECK_EQ(rng_request(), 0);
	vsim_cfg_write(&sim, 0x04, 2, 0x6);
	vsim_kick(&sim, 0);
	{
		u32 id, len;

		CHECK_EQ(vsim_used(&sim, 0, &id, &len), 1);
	}
	vsim_bar_write(&sim, 0, sim.notify + 4 * 9, 2, 9); /* no queue 9 */
	vsim_bar_write(&sim, 0, sim.notify + 1, 1, 0);
	CHECK(!virtio_dev_fault(sim.dev));
	vsim_free(&sim);
}

TEST(pci_bad_accesses_refused)
{
	u32 v;
	u64 w;

	rng_setup();
	CHECK_EQ(virtio_pci_cfg_read(&sim.vp, 0, 3, &v), -EINVAL);
	CHECK_EQ(virtio_pci_cfg_read(&sim.vp, 254, 4, &v), -EINVAL);
	CHECK_EQ(virtio_pci_cfg_read(&sim.vp, 1, 2, &v), -EINVAL);
	CHECK_EQ(virtio_pci_cfg_write(&sim.vp, 256, 1, 0), -EINVAL);
	CHECK_EQ(virtio_pci_bar_read(&sim.vp, 0, 0x4000, 4, &w), -EINVAL);
	CHECK_EQ(virtio_pci_bar_read(&sim.vp, 0, ~0ULL, 8, &w), -EINVAL);
	CHECK_EQ(virtio_pci_bar_read(&sim.vp, 1, 0, 4, &w), -EINVAL);
	CHECK_EQ(virtio_pci_bar_read(&sim.vp, 9, 0, 4, &w), -EINVAL);
	CHECK_EQ(virtio_pci_bar_write(&sim.vp, 0, 2, 4, 0), -EINVAL);
	CHECK_EQ(virtio_pci_bar_write(&sim.vp, 2, 0, 2, 0), -EINVAL);
	CHECK_EQ(virtio_pci_bar_write(&sim.vp, 2, 0xffc, 4, 0), 0);
	vsim_free(&sim);
}

TEST(pci_driver_ok_without_features_ok)
{
	rng_setup();
	CHECK_EQ(vsim_probe(&sim), 0);
	vsim_common_write(&sim, COMMON(device_status), 1,
			  VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
				  VIRTIO_STATUS_DRIVER_OK);
	CHECK(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK(!(vsim_status(&sim) & VIRTIO_STATUS_DRIVER_OK));
	CHECK_STR(virtio_dev_fault(sim.dev), "DRIVER_OK without FEATURES_OK");
	CHECK_EQ(sim.faults, 1);
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	CHECK(!virtio_dev_fault(sim.dev));
	CHECK_EQ(vsim_status(&sim), 0);
	vsim_free(&sim);
}

TEST(pci_function_reset)
{
	rng_setup();
	CHECK_EQ(vsim_start(&sim, VIRTIO_F_VERSION_1, 1), 0);
	virtio_pci_reset(&sim.vp);
	CHECK_EQ(vsim_cfg_read(&sim, 0x04, 2), 0);
	CHECK_EQ(vsim_cfg_read(&sim, 0x10, 4), 4);
	CHECK_EQ(vsim_bar_read(&sim, 2, 12, 4), 1); /* vectors masked again */
	CHECK_EQ(vsim_status(&sim), 0);
	vsim_free(&sim);
}
