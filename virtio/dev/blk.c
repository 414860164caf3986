// SPDX-License-Identifier: MIT
/* virtio-blk: parse a request, bounds-check it, hand it to the backend, set the status byte. */
#include <virtio/blk.h>
#include <lib/string.h>

#define HDR_LEN ((u32)sizeof(struct virtio_blk_req_hdr))
#define SECTOR VIRTIO_BLK_SECTOR_SIZE

static struct virtio_blk *virtio_blk_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_blk, dev);
}

/* [sector, sector + count) lies inside the disk (no overflow possible). */
static bool virtio_blk_in_range(const struct virtio_blk *blk, u64 sector, u64 count)
{
	return sector <= blk->sectors && count <= blk->sectors - sector;
}

/*
 * IN: data is the writable part up to the status byte.
 * OUT: data is the readable part after the header.
 */
static u8 virtio_blk_rw(struct virtio_blk *blk, const struct vq_chain *c, u64 sector, bool write,
			u32 *used)
{
	u32 len = write ? c->out_len - HDR_LEN : c->in_len - 1;
	u32 n;
	int err;

	if (write && blk->read_only)
		return VIRTIO_BLK_S_IOERR; /* virtio 1.2 5.2.6.2 */
	if (len % SECTOR || !virtio_blk_in_range(blk, sector, len / SECTOR))
		return VIRTIO_BLK_S_IOERR;
	if (!len)
		return VIRTIO_BLK_S_OK;
	n = vq_chain_slice(c, !write, write ? HDR_LEN : 0, len, blk->data, ARRAY_SIZE(blk->data));
	if (write) {
		err = blk->ops->write(blk->ctx, sector * SECTOR, blk->data, n);
	} else {
		err = blk->ops->read(blk->ctx, sector * SECTOR, blk->data, n);
		*used += len;
	}
	return err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

/* virtio 1.2 5.2.6: a NUL-padded ID of up to 20 bytes. */
static u8 virtio_blk_get_id(struct virtio_blk *blk, const struct vq_chain *c, u32 *used)
{
	u32 len = MIN(c->in_len - 1, (u32)VIRTIO_BLK_ID_BYTES);

	if (!len)
		return VIRTIO_BLK_S_IOERR;
	*used += vq_chain_write(c, 0, blk->serial, len);
	return VIRTIO_BLK_S_OK;
}

static u8 virtio_blk_check_range(const struct virtio_blk *blk, const struct virtio_blk_range *r,
				 u32 type)
{
	u32 allowed = type == VIRTIO_BLK_T_WRITE_ZEROES ? VIRTIO_BLK_WZ_F_UNMAP : 0;
	u32 max = type == VIRTIO_BLK_T_WRITE_ZEROES ? blk->config.max_write_zeroes_sectors :
						      blk->config.max_discard_sectors;

	/* virtio 1.2 5.2.6.2: unknown flags, or unmap on discard: UNSUPP. */
	if (r->flags & ~allowed)
		return VIRTIO_BLK_S_UNSUPP;
	if (r->num_sectors > max || !virtio_blk_in_range(blk, r->sector, r->num_sectors))
		return VIRTIO_BLK_S_IOERR;
	return VIRTIO_BLK_S_OK;
}

/* Discard / write zeroes: copy every range once, check all, then apply. */
static u8 virtio_blk_ranges(struct virtio_blk *blk, const struct vq_chain *c, u32 type)
{
	struct virtio_blk_range r[VIRTIO_BLK_MAX_RANGES];
	u32 len = c->out_len - HDR_LEN, n = len / sizeof(r[0]);
	int err = 0;
	u8 st;

	if (blk->read_only)
		return VIRTIO_BLK_S_IOERR;
	if (!n || len % sizeof(r[0]) || n > VIRTIO_BLK_MAX_RANGES)
		return VIRTIO_BLK_S_IOERR;
	vq_chain_read(c, HDR_LEN, r, n * sizeof(r[0]));
	for (u32 i = 0; i < n; i++) {
		st = virtio_blk_check_range(blk, &r[i], type);
		if (st != VIRTIO_BLK_S_OK)
			return st;
	}
	for (u32 i = 0; i < n && !err; i++) {
		u64 off = r[i].sector * SECTOR, bytes = (u64)r[i].num_sectors * SECTOR;

		if (type == VIRTIO_BLK_T_DISCARD)
			err = blk->ops->discard(blk->ctx, off, bytes);
		else
			err = blk->ops->write_zeroes(blk->ctx, off, bytes,
						     r[i].flags & VIRTIO_BLK_WZ_F_UNMAP);
	}
	return err ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

static u8 virtio_blk_execute(struct virtio_blk *blk, const struct vq_chain *c,
			     const struct virtio_blk_req_hdr *h, u32 *used)
{
	switch (h->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return virtio_blk_rw(blk, c, h->sector, h->type == VIRTIO_BLK_T_OUT, used);
	case VIRTIO_BLK_T_FLUSH:
		if (!blk->ops->flush)
			return VIRTIO_BLK_S_UNSUPP;
		return blk->ops->flush(blk->ctx) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		return virtio_blk_get_id(blk, c, used);
	case VIRTIO_BLK_T_DISCARD:
		if (!blk->ops->discard)
			return VIRTIO_BLK_S_UNSUPP;
		return virtio_blk_ranges(blk, c, h->type);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (!blk->ops->write_zeroes)
			return VIRTIO_BLK_S_UNSUPP;
		return virtio_blk_ranges(blk, c, h->type);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/*
 * virtio 1.2 5.2.6: header (device-readable), data, status (the last
 * device-writable byte). A header or status on the wrong side is a
 * framing error no request status can report: the device needs a reset.
 */
static int virtio_blk_request(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_blk *blk = virtio_blk_of(dev);
	struct virtio_blk_req_hdr h;
	u32 used = 1;
	u8 status;

	if (c->out_len < HDR_LEN)
		return vq_fail(vq, "blk request header is not device-readable (%u readable bytes)",
			       c->out_len);
	if (!c->in_len)
		return vq_fail(vq, "blk request has no device-writable status byte");
	vq_chain_read(c, 0, &h, HDR_LEN);
	status = virtio_blk_execute(blk, c, &h, &used);
	vq_chain_write(c, c->in_len - 1, &status, 1);
	return (int)used;
}

static void virtio_blk_queue_notify(struct virtio_dev *dev, u16 queue)
{
	virtio_dev_drain(dev, &dev->vqs[queue], &virtio_blk_of(dev)->chain, virtio_blk_request);
}

static const struct virtio_dev_ops virtio_blk_dev_ops = {
	.queue_notify = virtio_blk_queue_notify,
};

static u64 virtio_blk_features(const struct virtio_blk_params *p, const struct virtio_blk_ops *ops)
{
	u64 f = VIRTIO_BLK_F_SEG_MAX | VIRTIO_BLK_F_BLK_SIZE | VIRTIO_BLK_F_TOPOLOGY;

	if (p->size_max)
		f |= VIRTIO_BLK_F_SIZE_MAX;
	if (p->read_only)
		f |= VIRTIO_BLK_F_RO;
	if (ops->flush)
		f |= VIRTIO_BLK_F_FLUSH;
	if (p->num_queues > 1)
		f |= VIRTIO_BLK_F_MQ;
	if (ops->discard && !p->read_only)
		f |= VIRTIO_BLK_F_DISCARD;
	if (ops->write_zeroes && !p->read_only)
		f |= VIRTIO_BLK_F_WRITE_ZEROES;
	return f;
}

/* virtio 1.2 5.2.4: fill the config; all fields are little-endian like the host. */
static void virtio_blk_fill_config(struct virtio_blk *blk, const struct virtio_blk_params *p,
				   u16 nq, u16 qsize)
{
	struct virtio_blk_config *cfg = &blk->config;
	u32 bs = p->blk_size ? p->blk_size : SECTOR;

	memset(cfg, 0, sizeof(*cfg));
	cfg->capacity = blk->sectors;
	cfg->size_max = p->size_max;
	cfg->seg_max = qsize - 2u; /* header and status take a descriptor each */
	cfg->blk_size = bs;
	cfg->physical_block_exp = p->physical_block_exp;
	cfg->min_io_size = p->min_io_size;
	cfg->opt_io_size = p->opt_io_size;
	cfg->num_queues = nq;
	cfg->max_discard_sectors = 0xffffffff / SECTOR;
	cfg->max_discard_seg = VIRTIO_BLK_MAX_RANGES;
	cfg->discard_sector_alignment = bs / SECTOR;
	cfg->max_write_zeroes_sectors = 0xffffffff / SECTOR;
	cfg->max_write_zeroes_seg = VIRTIO_BLK_MAX_RANGES;
	cfg->write_zeroes_may_unmap = 1;
}

int virtio_blk_init(struct virtio_blk *blk, const struct virtio_blk_params *p,
		    const struct virtio_blk_ops *ops, void *ctx)
{
	u16 nq = p->num_queues ? p->num_queues : 1;
	u16 qsize = p->queue_size ? p->queue_size : VIRTIO_QUEUE_SIZE_MAX;
	int err;

	if (!ops || !ops->read || !ops->write || nq > VIRTIO_BLK_MAX_QUEUES || qsize < 4 ||
	    (p->blk_size && (p->blk_size < SECTOR || p->blk_size & (p->blk_size - 1))))
		return -EINVAL;
	err = virtio_dev_init(&blk->dev, VIRTIO_ID_BLOCK, virtio_blk_features(p, ops), nq, qsize,
			      &blk->config, sizeof(blk->config), &virtio_blk_dev_ops);
	if (err)
		return err;
	blk->ops = ops;
	blk->ctx = ctx;
	blk->sectors = p->capacity / SECTOR;
	blk->read_only = p->read_only;
	memset(blk->serial, 0, sizeof(blk->serial));
	if (p->serial)
		memcpy(blk->serial, p->serial, strnlen(p->serial, VIRTIO_BLK_ID_BYTES));
	virtio_blk_fill_config(blk, p, nq, qsize);
	return 0;
}

void virtio_blk_set_capacity(struct virtio_blk *blk, u64 bytes)
{
	blk->sectors = bytes / SECTOR;
	blk->config.capacity = blk->sectors;
	virtio_dev_config_changed(&blk->dev);
}
