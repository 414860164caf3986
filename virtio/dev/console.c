// SPDX-License-Identifier: MIT
/* virtio-console, single port: guest output to the embedder, embedder input into rx buffers. */
#include <virtio/console.h>
#include <lib/string.h>

static struct virtio_console *virtio_console_of(struct virtio_dev *dev)
{
	return container_of(dev, struct virtio_console, dev);
}

/* virtio 1.2 5.3.6: transmit buffers are device-readable bytes for the port. */
static int virtio_console_tx(struct virtio_dev *dev, struct virtqueue *vq, struct vq_chain *c)
{
	struct virtio_console *con = virtio_console_of(dev);

	if (c->nin)
		return vq_fail(vq, "console transmit buffer has device-writable descriptors");
	for (u16 i = 0; i < c->nout; i++)
		con->ops->output(con->ctx, c->iov[i].base, c->iov[i].len);
	return 0;
}

static void virtio_console_queue_notify(struct virtio_dev *dev, u16 queue)
{
	struct virtio_console *con = virtio_console_of(dev);

	if (queue == VIRTIO_CONSOLE_TX_QUEUE)
		virtio_dev_drain(dev, &dev->vqs[queue], &con->chain, virtio_console_tx);
	else if (con->ops->rx_ready)
		con->ops->rx_ready(con->ctx);
}

/* virtio 1.2 5.3.4: a write to emerg_wr prints one character. */
static void virtio_console_config_write(struct virtio_dev *dev, u32 off, u32 size, u32 val)
{
	struct virtio_console *con = virtio_console_of(dev);
	u8 ch = (u8)val;

	(void)size;
	if (off == offsetof(struct virtio_console_config, emerg_wr))
		con->ops->output(con->ctx, &ch, 1);
}

static const struct virtio_dev_ops virtio_console_dev_ops = {
	.queue_notify = virtio_console_queue_notify,
	.config_write = virtio_console_config_write,
};

u32 virtio_console_input(struct virtio_console *con, const void *buf, u32 len)
{
	struct virtio_dev *dev = &con->dev;
	struct virtqueue *vq = &dev->vqs[VIRTIO_CONSOLE_RX_QUEUE];
	u32 done = 0, n;

	if (!(dev->status & VIRTIO_STATUS_DRIVER_OK) || dev->broken)
		return 0;
	/* receive buffers are device-writable only (virtio 1.2 5.3.6.1) */
	while (done < len && vq_pop_for_device(vq, &con->chain, "console receive buffer") > 0) {
		n = vq_chain_write(&con->chain, 0, (const u8 *)buf + done, len - done);
		if (vq_push(vq, &con->chain, n))
			break;
		done += n;
	}
	if (done)
		virtio_dev_queue_used(dev, vq);
	return done;
}

void virtio_console_resize(struct virtio_console *con, u16 cols, u16 rows)
{
	con->config.cols = cols;
	con->config.rows = rows;
	virtio_dev_config_changed(&con->dev);
}

int virtio_console_init(struct virtio_console *con, const struct virtio_console_params *p,
			const struct virtio_console_ops *ops, void *ctx)
{
	u16 qsize = p->queue_size ? p->queue_size : VIRTIO_QUEUE_SIZE_MAX;
	u64 features = VIRTIO_CONSOLE_F_EMERG_WRITE;
	int err;

	if (!ops || !ops->output)
		return -EINVAL;
	if (p->cols || p->rows)
		features |= VIRTIO_CONSOLE_F_SIZE;
	err = virtio_dev_init(&con->dev, VIRTIO_ID_CONSOLE, features, 2, qsize, &con->config,
			      sizeof(con->config), &virtio_console_dev_ops);
	if (err)
		return err;
	con->ops = ops;
	con->ctx = ctx;
	memset(&con->config, 0, sizeof(con->config));
	con->config.cols = p->cols;
	con->config.rows = p->rows;
	con->config.max_nr_ports = 1;
	return 0;
}
