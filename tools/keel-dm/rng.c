// SPDX-License-Identifier: MIT
/* keel-dm rng: a virtio entropy device fed by the service VM's getrandom(). */
#include "dm.h"
#include <virtio/rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

struct dm_rng {
	struct virtio_rng rng;
};

static int dm_rng_fill(void *ctx, void *buf, u32 len)
{
	ssize_t n = getrandom(buf, len, 0); /* may give fewer bytes: the model takes what came */

	(void)ctx;
	return n < 0 ? -EIO : (int)n;
}

static const struct virtio_rng_ops dm_rng_ops = { .fill = dm_rng_fill };

/* rng */
static int dm_rng_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	struct dm_rng *r;

	(void)argv;
	if (argc) {
		snprintf(msg, len, "usage: rng");
		return -1;
	}
	r = calloc(1, sizeof(*r));
	if (!r || virtio_rng_init(&r->rng, 0, &dm_rng_ops, r)) {
		snprintf(msg, len, "cannot build the entropy device model");
		free(r);
		return -1;
	}
	d->be = r;
	d->vdev = &r->rng.dev;
	return 0;
}

static void dm_rng_close(struct dm_dev *d)
{
	free(d->be);
}

const struct dm_kind dm_rng_kind = {
	.name = "rng",
	.open = dm_rng_open,
	.close = dm_rng_close,
};
