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
 * only fails when a buffer was malformed, and never hands out an event
 * twice or one it was not given.
 */
#define RAM_SIZE (1 << 20)

static struct virtio_input in;
static struct vsim sim;

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	bool malformed = false;
	u32 id, len;

	if (virtio_input_init(&in,
			      size && (data[0] & 1) ? VIRTIO_INPUT_TABLET : VIRTIO_INPUT_KEYBOARD,
			      16, NULL, NULL) ||
	    vsim_init(&sim, &in.dev, RAM_SIZE) || vsim_start(&sim, VIRTIO_F_VERSION_1, 2))
		abort();
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
			if (vsim_post(&sim,
				      op == 1 ? VIRTIO_INPUT_EVENT_QUEUE :
						VIRTIO_INPUT_STATUS_QUEUE,
				      &seg, op == 2 && !(c & 1), op == 1 || (c & 1), false) < 0) {
				/* the ring is full: the test's own doing, stop here */
				malformed = true;
				n = 128;
				break;
			}
			vsim_kick(&sim,
				  op == 1 ? VIRTIO_INPUT_EVENT_QUEUE : VIRTIO_INPUT_STATUS_QUEUE);
			break;
		case 3: {
			struct virtio_input_event ev[4] = { { EV_KEY, a, 1 },
							    { EV_KEY, a, 0 },
							    { EV_ABS, 0, b },
							    { EV_SYN, SYN_REPORT, 0 } };

			virtio_input_send(&in, ev, 1 + c % 4);
			break;
		}
		}
		if (in.count > VIRTIO_INPUT_PENDING)
			abort();
		while (vsim_used(&sim, VIRTIO_INPUT_EVENT_QUEUE, &id, &len) == 1)
			if (len != sizeof(struct virtio_input_event))
				abort();
		while (vsim_used(&sim, VIRTIO_INPUT_STATUS_QUEUE, &id, &len) == 1)
			;
	}
	if (virtio_dev_fault(&in.dev) && !malformed)
		abort();
	vsim_free(&sim);
	return 0;
}
