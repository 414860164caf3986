// SPDX-License-Identifier: MIT
/* A running virtio-pci disk saved, loaded into a fresh model and resumed: split and packed, publishes cut short, refusals. */
#include <stdlib.h>
#include "test.h"
#include "mem_disk.h"
#include "virtio_driver_sim.h"
#include <virtio/blk.h>
#include <virtio/net.h>
#include <virtio/rng.h>
#include <virtio/state.h>

#define DISK_SIZE (64 * 1024)
#define QSIZE 4 /* three descriptors a request: the packed ring wraps every few requests */
#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX)
#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)
#define QUEUE_VECTOR 1 /* vsim_setup_queue gives queue q vector q + 1 */

static struct virtio_blk blk[2]; /* the model that "died", and its successor */
static struct vsim sim;
static struct vq_journal journal[VIRTIO_DEV_MAX_QUEUES];
static struct virtio_pci_state saved;
static u8 disk[DISK_SIZE];

static struct mem_disk mem = { disk, sizeof(disk) };
static const struct virtio_blk_params params = { .capacity = DISK_SIZE, .queue_size = QSIZE };

/* A disk brought up by the driver, its positions journalled from the start. */
static void start(bool packed)
{
	memset(disk, 0, sizeof(disk));
	memset(journal, 0xa5, sizeof(journal));
	CHECK_EQ(virtio_blk_init(&blk[0], &params, &mem_disk_ops, &mem), 0);
	CHECK_EQ(vsim_init(&sim, &blk[0].dev, 1 << 20), 0);
	virtio_dev_journal(&blk[0].dev, journal);
	CHECK_EQ(vsim_start(&sim, FEAT | (packed ? VIRTIO_F_RING_PACKED : 0), 1), 0);
}

/* A write of one sector of fill, posted; its status byte's address. */
static gpa_t post_write(u64 sector, u8 fill, int *id)
{
	struct virtio_blk_req_hdr h = { VIRTIO_BLK_T_OUT, 0, sector };
	u8 data[VIRTIO_BLK_SECTOR_SIZE];
	struct vsim_seg seg[3];
	gpa_t st = vsim_alloc(&sim, 1, 1);

	memset(data, fill, sizeof(data));
	*(u8 *)vsim_ptr(&sim, st) = 0xee;
	seg[0] = (struct vsim_seg){ vsim_alloc_copy(&sim, &h, sizeof(h)), sizeof(h) };
	seg[1] = (struct vsim_seg){ vsim_alloc_copy(&sim, data, sizeof(data)), sizeof(data) };
	seg[2] = (struct vsim_seg){ st, 1 };
	*id = vsim_post(&sim, 0, seg, 2, 1, false);
	CHECK(*id >= 0);
	return st;
}

/* The driver takes the next used buffer: it must be id, with status OK. */
static void reap(int id, gpa_t st)
{
	u32 got = 0xffff, len = 0;

	CHECK_EQ(vsim_used(&sim, 0, &got, &len), 1);
	CHECK_EQ(got, id);
	CHECK_EQ(len, 1);
	CHECK_EQ(*(u8 *)vsim_ptr(&sim, st), VIRTIO_BLK_S_OK);
}

static void write_sector(u64 sector, u8 fill)
{
	int id;
	gpa_t st = post_write(sector, fill, &id);

	vsim_kick(&sim, 0);
	reap(id, st);
}

static bool sector_is(u64 sector, u8 fill)
{
	for (u32 i = 0; i < VIRTIO_BLK_SECTOR_SIZE; i++)
		if (disk[sector * VIRTIO_BLK_SECTOR_SIZE + i] != fill)
			return false;
	return true;
}

/* The old model "dies": a new one at power-on behind the same guest, and the state it left. */
static void save_and_replace(void)
{
	virtio_pci_state_save(&sim.vp, &saved);
	CHECK_EQ(virtio_blk_init(&blk[1], &params, &mem_disk_ops, &mem), 0);
	CHECK_EQ(vsim_replace(&sim, &blk[1].dev), 0);
	CHECK_EQ(vsim_status(&sim), 0);
}

static const char *why;

static int load(struct vq_journal *j)
{
	int err;

	why = NULL;
	err = virtio_pci_state_load(&sim.vp, &saved, j, &why);
	CHECK(err ? why != NULL : why == NULL);
	return err;
}

static int restart(struct vq_journal *j)
{
	save_and_replace();
	return load(j);
}

static void restart_continues(bool packed)
{
	struct virtio_pci_state again;
	u32 msis;

	start(packed);
	for (u8 s = 0; s < 5; s++) /* positions far from power-on: the packed ring wrapped */
		write_sector(s, (u8)(0x10 + s));
	virtio_pci_state_save(&sim.vp, &saved);
	write_sector(5, 0x15);
	virtio_pci_state_save(&sim.vp, &again);
	CHECK(!memcmp(&saved, &again, sizeof(saved))); /* requests change only the journal */
	msis = sim.msi_vec[QUEUE_VECTOR];
	CHECK_EQ(restart(journal), 0);
	CHECK_EQ(vsim_status(&sim), VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
					    VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
	CHECK_EQ(vsim_cfg_read(&sim, 0x10, 4), (u32)VSIM_BAR0_ADDR | 0x4); /* 64-bit memory BAR */
	CHECK(vsim_cfg_read(&sim, sim.msix_cap + 2, 2) & 0x8000);	   /* MSI-X still on */
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_msix_vector), 2), QUEUE_VECTOR);
	CHECK_EQ(vsim_common_read(&sim, COMMON(queue_desc), 8), sim.q[0].desc);
	CHECK_EQ(vsim_common_read(&sim, COMMON(driver_feature), 4), (u32)(sim.features >> 32));
	CHECK_EQ(sim.msi_count, msis + sim.msi_vec[0]); /* loading alone signals nothing */
	virtio_pci_state_resume(&sim.vp);
	CHECK_EQ(sim.msi_vec[QUEUE_VECTOR], msis + 1); /* the queue's interrupt, once */
	write_sector(6, 0x16);
	CHECK_EQ(sim.msi_vec[QUEUE_VECTOR], msis + 2); /* the same vector as before */
	CHECK_EQ(sim.msi_bad, 0);
	for (u8 s = 0; s < 7; s++)
		CHECK(sector_is(s, (u8)(0x10 + s)));
	CHECK_EQ(journal[0].used, journal[0].to); /* kept by the new model */
	vsim_free(&sim);
}

TEST(state_split_restart_continues)
{
	restart_continues(false);
}

TEST(state_packed_restart_continues)
{
	restart_continues(true);
}

enum cut { CUT_UNSHOWN, CUT_SHOWN, CUT_SHOWN_AND_REUSED };

/* The driver had not seen the batch: the publish is undone in guest RAM. */
static void unshow(bool packed, u16 from)
{
	struct vsim_queue *q = &sim.q[0];

	if (!packed) {
		((struct virtq_used *)vsim_ptr(&sim, q->device))->idx = from;
		return;
	}
	/* Only the first element's flags show a batch: back to "available" (NEXT, AVAIL in its wrap). */
	vsim_pdesc(&sim, 0, from & 0x7fff)->flags =
		VIRTQ_DESC_F_NEXT | ((from >> 15) ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED);
}

/*
 * Death between the journal's "to" and "used" (vq_journal.c): the
 * completion reaches the driver exactly once, whether it had seen it,
 * or seen it and reused its slots, or not.
 */
static void publish_cut(bool packed, enum cut cut)
{
	struct vq_journal cutj[VIRTIO_DEV_MAX_QUEUES];
	gpa_t st, st2 = 0;
	int id, id2 = -1;
	u32 got, len;
	u16 from;

	start(packed);
	write_sector(0, 0x20);
	from = journal[0].used;
	st = post_write(1, 0x21, &id);
	vsim_kick(&sim, 0);
	memcpy(cutj, journal, sizeof(cutj));
	CHECK(cutj[0].used != from && cutj[0].count == 1);
	cutj[0].used = from; /* the batch is recorded, the commit is not */
	if (cut == CUT_UNSHOWN)
		unshow(packed, from);
	if (cut == CUT_SHOWN_AND_REUSED) {
		reap(id, st);
		st2 = post_write(2, 0x22, &id2); /* lands on the batch's first slot (packed) */
	}
	CHECK_EQ(restart(cutj), 0);
	virtio_pci_state_resume(&sim.vp);
	if (cut != CUT_SHOWN_AND_REUSED)
		reap(id, st);
	else
		reap(id2, st2);
	CHECK_EQ(vsim_used(&sim, 0, &got, &len), 0); /* nothing twice */
	write_sector(3, 0x23);
	CHECK(sector_is(1, 0x21) && sector_is(3, 0x23));
	CHECK(cut != CUT_SHOWN_AND_REUSED || sector_is(2, 0x22));
	CHECK_EQ(sim.faults, 0);
	vsim_free(&sim);
}

TEST(state_split_publish_cut_short)
{
	publish_cut(false, CUT_UNSHOWN);
	publish_cut(false, CUT_SHOWN);
	publish_cut(false, CUT_SHOWN_AND_REUSED);
}

TEST(state_packed_publish_cut_short)
{
	publish_cut(true, CUT_UNSHOWN);
	publish_cut(true, CUT_SHOWN);
	publish_cut(true, CUT_SHOWN_AND_REUSED);
}

TEST(state_driver_reset_resets_the_journal)
{
	start(true);
	write_sector(0, 1);
	CHECK(journal[0].used != 0x8000);
	vsim_common_write(&sim, COMMON(device_status), 1, 0);
	CHECK_EQ(journal[0].used, 0x8000); /* packed slot 0, wrap counter 1 */
	CHECK_EQ(journal[0].to, 0x8000);
	vsim_free(&sim);
}

/* A refusal says why and leaves the new device at power-on: status 0, BARs unassigned. */
static void refused(struct vq_journal *j, const char *what)
{
	CHECK_EQ(load(j), -EINVAL);
	CHECK(why && strstr(why, what));
	CHECK_EQ(vsim_status(&sim), 0);
	CHECK_EQ(vsim_cfg_read(&sim, 0x10, 4), 0x4); /* 64-bit memory BAR at 0 */
	CHECK_EQ(vsim_cfg_read(&sim, 0x04, 2), 0);
	vsim_free(&sim);
}

/* Each on a disk that was running. */
TEST(state_refuses_what_does_not_fit)
{
	struct vq_journal bad[VIRTIO_DEV_MAX_QUEUES];

	start(false);
	write_sector(0, 1);
	memcpy(bad, journal, sizeof(bad));
	bad[0].to = (u16)(bad[0].used + 1); /* in flight, but no batch */
	bad[0].count = 0;
	save_and_replace();
	refused(bad, "journal batch");
	start(true);
	write_sector(0, 1);
	memcpy(bad, journal, sizeof(bad));
	bad[0].used = 7; /* slot 7 of 4 */
	save_and_replace();
	refused(bad, "outside its queue");
	start(false);
	save_and_replace();
	refused(NULL, "nothing says where");
	start(false);
	save_and_replace();
	saved.queue_vector[0] = 40; /* past the table */
	refused(journal, "vector");
	start(false);
	save_and_replace();
	saved.dev.device_features ^= VIRTIO_F_RING_PACKED; /* another offer */
	refused(journal, "another device");
}

static int rng_fill(void *ctx, void *buf, u32 len)
{
	(void)ctx;
	memset(buf, 0x5a, len);
	return (int)len;
}

TEST(state_refuses_another_kind_of_device)
{
	static const struct virtio_rng_ops rng_ops = { .fill = rng_fill };
	static struct virtio_rng rng;

	start(false);
	virtio_pci_state_save(&sim.vp, &saved);
	CHECK_EQ(virtio_rng_init(&rng, QSIZE, &rng_ops, NULL), 0);
	CHECK_EQ(vsim_replace(&sim, &rng.dev), 0);
	refused(journal, "another device");
}

static int net_tx(void *ctx, u16 pair, const struct virtio_net_hdr *hdr,
		  const struct virtio_iov *frame, u32 niov)
{
	(void)ctx, (void)pair, (void)hdr, (void)frame, (void)niov;
	return 0;
}

TEST(state_net_keeps_its_active_pairs)
{
	static const struct virtio_net_ops net_ops = { .transmit = net_tx };
	static const struct virtio_net_params p = { .max_pairs = 2 };
	static struct virtio_net net[2];
	CHECK_EQ(virtio_net_init(&net[0], &p, &net_ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &net[0].dev, 1 << 20), 0);
	net[0].pairs = 2; /* as VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET leaves it */
	virtio_pci_state_save(&sim.vp, &saved);
	CHECK_EQ(virtio_net_init(&net[1], &p, &net_ops, NULL), 0);
	CHECK_EQ(vsim_replace(&sim, &net[1].dev), 0);
	CHECK_EQ(load(journal), 0);
	CHECK_EQ(net[1].pairs, 2);
	saved.dev.model[0] = 3; /* more pairs than it has */
	refused(journal, "model");
	CHECK_EQ(net[1].pairs, 1);
}
