// SPDX-License-Identifier: MIT
/* libFuzzer: virtio-input config queries, event and status buffers of any size, and host events. */
#include <stdlib.h>
#include <string.h>
#include <virtio/input.h>
#include "tests/unit/virtio/virtio_driver_sim.h"

/*
 * Input: operations of 4 bytes, op then three arguments:
 *   0: config write of 1, 2 or 4 bytes at an offset (select, subsel, or a read-only field)
 *   1: post an event buffer of a given length (kicked)
 *   2: post a status buffer of a given length, device-readable or not (kicked)
 *   3: the host sends a group of events
 * The oracles: ASan; the config's size never exceeds its 128-byte union and
 * nothing after size is set; held events never exceed the hold; a device
 * only fails when a buffer was malformed; and a model of the events sent
 * (a FIFO of every group virtio_input_send took) says what each used event
 * buffer must hold: the next event sent, in order, each once, and the
 * device holds exactly the events the driver has not seen yet.
 */
#define RAM_SIZE (1 << 20)
#define MODEL_MAX 1024 /* at most 128 operations of 4 events */

static struct virtio_input in;
static struct vsim sim;
static struct virtio_input_event model[MODEL_MAX];
static u32 model_head, model_count;
static gpa_t event_buf[VIRTIO_QUEUE_SIZE_MAX]; /* by buffer id: where each event buffer is */

/* The device took the group: the driver will see it after whatever it has not seen yet. */
static void model_send(const struct virtio_input_event *ev, u32 n)
{
	for (u32 i = 0; i < n; i++)
		model[(model_head + model_count++) % MODEL_MAX] = ev[i];
}

/* A used event buffer: exactly one event, the oldest one the driver has not seen. */
static void model_used(u32 id, u32 len)
{
	if (len != sizeof(struct virtio_input_event) || id >= VIRTIO_QUEUE_SIZE_MAX)
		abort();
	if (!model_count) /* an event nobody sent, or one handed out twice */
		abort();
	if (memcmp(vsim_ptr(&sim, event_buf[id]), &model[model_head], sizeof(model[0])))
		abort(); /* out of order, damaged, or a stale buffer reused */
	model_head = (model_head + 1) % MODEL_MAX;
	model_count--;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	bool malformed = false;
	u32 id, len;
	int posted;

	if (virtio_input_init(&in,
			      size && (data[0] & 1) ? VIRTIO_INPUT_TABLET : VIRTIO_INPUT_KEYBOARD,
			      16, NULL, NULL) ||
	    vsim_init(&sim, &in.dev, RAM_SIZE) || vsim_start(&sim, VIRTIO_F_VERSION_1, 2))
		abort();
	model_head = model_count = 0;
	for (int n = 0; n < 128 && size >= 4; n++, data += 4, size -= 4) {
		u8 op = data[0] & 3, a = data[1], b = data[2], c = data[3];
		struct vsim_seg seg = { 0, (u32)b % 24 };

		switch (op) {
		case 0:
			vsim_bar_write(&sim, 0, sim.device + a % 140, 1u << (c % 3), b);
			if (in.config.size > sizeof(in.config.u))
				abort();
			for (u32 i = in.config.size; i < sizeof(in.config.u); i++)
				if (in.config.u.bitmap[i])
					abort();
			break;
		case 1:
		case 2:
			seg.addr = vsim_alloc(&sim, seg.len + 1, 8);
			if (op == 1 ? seg.len < sizeof(struct virtio_input_event) :
				      seg.len < sizeof(struct virtio_input_event) || (c & 1))
				malformed = true;
			/* stale bytes: an untouched buffer must not read as the next event */
			memset(vsim_ptr(&sim, seg.addr), 0xa5, seg.len + 1);
			posted = vsim_post(&sim,
					   op == 1 ? VIRTIO_INPUT_EVENT_QUEUE :
						     VIRTIO_INPUT_STATUS_QUEUE,
					   &seg, op == 2 && !(c & 1), op == 1 || (c & 1), false);
			if (posted < 0) {
				/* the ring is full: the test's own doing, stop here */
				malformed = true;
				n = 128;
				break;
			}
			if (op == 1)
				event_buf[posted] = seg.addr;
			vsim_kick(&sim,
				  op == 1 ? VIRTIO_INPUT_EVENT_QUEUE : VIRTIO_INPUT_STATUS_QUEUE);
			break;
		case 3: {
			struct virtio_input_event ev[4] = { { EV_KEY, a, 1 },
							    { EV_KEY, a, 0 },
							    { EV_ABS, 0, b },
							    { EV_SYN, SYN_REPORT, 0 } };

			if (virtio_input_send(&in, ev, 1 + c % 4))
				model_send(ev, 1 + c % 4);
			break;
		}
		}
		if (in.count > VIRTIO_INPUT_PENDING)
			abort();
		while (vsim_used(&sim, VIRTIO_INPUT_EVENT_QUEUE, &id, &len) == 1)
			model_used(id, len);
		while (vsim_used(&sim, VIRTIO_INPUT_STATUS_QUEUE, &id, &len) == 1)
			;
		/* nothing lost, nothing invented: what is not in the driver's hands is still held */
		if (!virtio_dev_fault(&in.dev) && model_count != in.count)
			abort();
	}
	if (virtio_dev_fault(&in.dev) && !malformed)
		abort();
	vsim_free(&sim);
	return 0;
}
