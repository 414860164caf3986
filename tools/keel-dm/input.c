// SPDX-License-Identifier: MIT
/* keel-dm keyboard and tablet: virtio-input devices, fed by the key and pointer lines of a display's input stream. */
#include "dm.h"
#include <virtio/input.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct dm_input {
	struct virtio_input in;
	/* the tablet's buttons as last sent (VNC's mask: 1 left, 2 middle, 4 right) */
	uint32_t buttons;
};

static void dm_input_send(struct dm_dev *d, struct virtio_input_event *ev, uint32_t n)
{
	struct dm_input *in = d->be;

	ev[n++] = (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
	virtio_input_send(&in->in, ev, n);
	dm_dev_state_sync(d); /* a bad event buffer may have failed the device */
}

/*
 * "key CODE 0|1": a Linux key code released or pressed.
 * "pointer X Y BUTTONS [WHEEL]": X, Y in 0..32767; BUTTONS as RFB's mask
 * (bit 0 left, 1 middle, 2 right); WHEEL in notches, up positive.
 */
static void dm_input_line(struct dm_vm *vm, const char *line)
{
	struct virtio_input_event ev[8];
	static const uint16_t btn[3] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT };
	unsigned code, down, x, y, buttons;
	int wheel = 0, n = 0, args;
	struct dm_dev *kbd = dm_vm_dev(vm, &dm_keyboard_kind), *tab;
	struct dm_input *t;

	if (sscanf(line, "key %u %u", &code, &down) == 2 && code && code <= KEY_MAX_KEYBOARD) {
		ev[0] = (struct virtio_input_event){ EV_KEY, (u16)code, down ? 1 : 0 };
		if (kbd)
			dm_input_send(kbd, ev, 1);
		dm_kbc_key(vm, code, down != 0); /* a firmware VM's PS/2 keyboard too */
		return;
	}
	args = sscanf(line, "pointer %u %u %u %d", &x, &y, &buttons, &wheel);
	tab = dm_vm_dev(vm, &dm_tablet_kind);
	if (args < 3 || !tab)
		/* not ours to judge: the client is keel-vnc, and a line too many costs nothing */
		return;
	t = tab->be;
	ev[n++] =
		(struct virtio_input_event){ EV_ABS, ABS_X,
					     x > VIRTIO_INPUT_ABS_MAX ? VIRTIO_INPUT_ABS_MAX : x };
	ev[n++] =
		(struct virtio_input_event){ EV_ABS, ABS_Y,
					     y > VIRTIO_INPUT_ABS_MAX ? VIRTIO_INPUT_ABS_MAX : y };
	for (unsigned b = 0; b < 3; b++)
		if ((buttons ^ t->buttons) >> b & 1)
			ev[n++] = (struct virtio_input_event){ EV_KEY, btn[b], buttons >> b & 1 };
	t->buttons = buttons & 7;
	if (wheel)
		ev[n++] = (struct virtio_input_event){ EV_REL, REL_WHEEL, (u32)wheel };
	dm_input_send(tab, ev, (uint32_t)n);
}

void dm_input_stream_close(struct dm_input_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->len = 0;
}

int dm_input_stream_attach(struct dm_input_stream *s, int fd)
{
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK))
		return -1;
	dm_input_stream_close(s); /* the newest client takes over */
	s->fd = fd;
	return 0;
}

void dm_input_stream_read(struct dm_vm *vm, struct dm_input_stream *s, short revents)
{
	char *nl;
	ssize_t n;

	if (s->fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = read(s->fd, s->line + s->len, sizeof(s->line) - 1 - s->len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		dm_input_stream_close(s);
		return;
	}
	if (n < 0)
		return;
	s->len += (uint32_t)n;
	s->line[s->len] = 0;
	while ((nl = strchr(s->line, '\n'))) {
		*nl = 0;
		dm_input_line(vm, s->line);
		s->len -= (uint32_t)(nl + 1 - s->line);
		memmove(s->line, nl + 1, s->len + 1);
	}
	if (s->len == sizeof(s->line) - 1) /* a line too long: not a client of ours */
		dm_input_stream_close(s);
}

/* keyboard, tablet (one of each a VM) */
static int dm_input_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len,
			 const struct dm_kind *kind, enum virtio_input_kind vkind)
{
	struct dm_input *in;

	(void)argv;
	if (argc) {
		snprintf(msg, len, "usage: %s", kind->name);
		return -1;
	}
	if (dm_vm_dev(d->vm, kind)) {
		snprintf(msg, len, "'%s' has a %s already", d->vm->name, kind->name);
		return -1;
	}
	in = calloc(1, sizeof(*in));
	if (!in || virtio_input_init(&in->in, vkind, 0, NULL, NULL)) {
		snprintf(msg, len, "cannot build the %s model", kind->name);
		free(in);
		return -1;
	}
	d->be = in;
	d->vdev = &in->in.dev;
	return 0;
}

static int dm_keyboard_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	return dm_input_open(d, argc, argv, msg, len, &dm_keyboard_kind, VIRTIO_INPUT_KEYBOARD);
}

static int dm_tablet_open(struct dm_dev *d, int argc, char **argv, char *msg, size_t len)
{
	return dm_input_open(d, argc, argv, msg, len, &dm_tablet_kind, VIRTIO_INPUT_TABLET);
}

static void dm_input_close(struct dm_dev *d)
{
	free(d->be);
}

const struct dm_kind dm_keyboard_kind = {
	.name = "keyboard",
	.open = dm_keyboard_open,
	.close = dm_input_close,
};

const struct dm_kind dm_tablet_kind = {
	.name = "tablet",
	.open = dm_tablet_open,
	.close = dm_input_close,
};
