// SPDX-License-Identifier: MIT
/* A virtio-pci function's state as a plain struct, loaded into its re-created self, and what it missed meanwhile. */
#include <virtio/state.h>
#include <lib/string.h>
#include "virtio_pci_priv.h"

void virtio_pci_state_save(const struct virtio_pci *vp, struct virtio_pci_state *s)
{
	memset(s, 0, sizeof(*s));
	virtio_dev_state_save(vp->dev, &s->dev);
	memcpy(s->cfg, vp->cfg, sizeof(s->cfg));
	memcpy(s->msix, vp->msix, sizeof(s->msix));
	s->pba = vp->pba;
	s->dfselect = vp->dfselect;
	s->gfselect = vp->gfselect;
	s->nvec = vp->nvec;
	s->queue_select = vp->queue_select;
	s->config_vector = vp->config_vector;
	memcpy(s->queue_vector, vp->queue_vector, sizeof(s->queue_vector));
}

/* virtio 1.2 4.1.5.1.2: a vector in the table, or NO_VECTOR. */
static bool virtio_pci_state_vector_ok(const struct virtio_pci *vp, u16 v)
{
	return v < vp->nvec || v == VIRTIO_MSI_NO_VECTOR;
}

static const char *virtio_pci_state_check(const struct virtio_pci *vp,
					  const struct virtio_pci_state *s,
					  const struct vq_journal *j)
{
	if (s->nvec != vp->nvec)
		return "it has another number of MSI-X vectors";
	if (!virtio_pci_state_vector_ok(vp, s->config_vector))
		return "its config vector is not in the MSI-X table";
	for (u16 q = 0; q < vp->dev->num_queues; q++)
		if (!virtio_pci_state_vector_ok(vp, s->queue_vector[q]))
			return "a queue vector is not in the MSI-X table";
	return virtio_dev_state_check(vp->dev, &s->dev, j);
}

/*
 * Config space: only what a driver's write could have changed (command,
 * BARs, MSI-X enable and mask, the pci_cfg window's registers); the rest
 * stays as this build describes the function.
 */
static void virtio_pci_state_apply(struct virtio_pci *vp, const struct virtio_pci_state *s)
{
	u64 vectors = vp->nvec >= 64 ? ~0ULL : BIT(vp->nvec) - 1;

	for (u32 i = 0; i < sizeof(vp->cfg); i++)
		vp->cfg[i] = (u8)((vp->cfg[i] & ~vp->wmask[i]) | (s->cfg[i] & vp->wmask[i]));
	for (u16 v = 0; v < vp->nvec; v++) {
		vp->msix[v] = s->msix[v];
		vp->msix[v].ctrl &= PCI_MSIX_ENTRY_MASKED;
	}
	vp->pba = s->pba & vectors;
	vp->dfselect = s->dfselect;
	vp->gfselect = s->gfselect;
	vp->queue_select = s->queue_select;
	vp->config_vector = s->config_vector;
	for (u16 q = 0; q < vp->dev->num_queues; q++)
		vp->queue_vector[q] = s->queue_vector[q];
}

int virtio_pci_state_load(struct virtio_pci *vp, const struct virtio_pci_state *s,
			  struct vq_journal *j, const char **why)
{
	*why = virtio_pci_state_check(vp, s, j);
	if (*why)
		return -EINVAL;
	virtio_dev_journal(vp->dev, NULL); /* j is read, not reset, below */
	virtio_pci_reset(vp);
	if (virtio_dev_state_apply(vp->dev, &s->dev, j)) {
		*why = "the device model refuses its own state";
		return -EINVAL; /* it refused before anything changed */
	}
	virtio_pci_state_apply(vp, s);
	virtio_dev_journal(vp->dev, j);
	virtio_pci_msix_update(vp);
	return 0;
}

void virtio_pci_state_resume(struct virtio_pci *vp)
{
	struct virtio_dev *dev = vp->dev;

	if (!(dev->status & VIRTIO_STATUS_DRIVER_OK) || dev->broken)
		return;
	/* What the model did at DRIVER_OK is news to a backend opened anew (net: offloads). */
	if (dev->ops->driver_ok)
		dev->ops->driver_ok(dev);
	for (u16 q = 0; q < dev->num_queues; q++)
		if (dev->vqs[q].started)
			dev->transport->queue_interrupt(dev, q);
	for (u16 q = 0; q < dev->num_queues; q++)
		if (dev->vqs[q].started)
			virtio_pci_notify(vp, q);
}
