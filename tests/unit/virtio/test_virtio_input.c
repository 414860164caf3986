// SPDX-License-Identifier: MIT
/* virtio-input tests: config queries as Linux makes them, events into buffers, the hold, LEDs, bad buffers. */
#include "test.h"
#include "virtio_driver_sim.h"
#include <virtio/input.h>

#define FEAT (VIRTIO_F_VERSION_1 | VIRTIO_F_EVENT_IDX)

static struct virtio_input in;
static struct vsim sim;
static struct virtio_input_event led;
static u32 leds;

static void on_status(void *ctx, const struct virtio_input_event *ev)
{
	(void)ctx;
	led = *ev;
	leds++;
}

static const struct virtio_input_ops ops = { .status = on_status };

static void setup(enum virtio_input_kind kind)
{
	leds = 0;
	CHECK_EQ(virtio_input_init(&in, kind, 8, &ops, NULL), 0);
	CHECK_EQ(vsim_init(&sim, &in.dev, 1 << 20), 0);
	CHECK_EQ(vsim_start(&sim, FEAT, 2), 0);
}

/* The driver's query: select and subsel written, size read (virtio 1.2 5.8.5). */
static u8 query(u8 select, u8 subsel)
{
	vsim_bar_write(&sim, 0, sim.device + 0, 1, select);
	vsim_bar_write(&sim, 0, sim.device + 1, 1, subsel);
	return (u8)vsim_bar_read(&sim, 0, sim.device + 2, 1);
}

static bool bit(u32 b)
{
	return vsim_bar_read(&sim, 0, sim.device + 8 + b / 8, 1) >> (b % 8) & 1;
}

static void post_events(u32 n, gpa_t *addr)
{
	for (u32 i = 0; i < n; i++) {
		struct vsim_seg seg = { vsim_alloc(&sim, 8, 8), 8 };

		if (addr)
			addr[i] = seg.addr;
		vsim_post(&sim, VIRTIO_INPUT_EVENT_QUEUE, &seg, 0, 1, false);
	}
	vsim_kick(&sim, VIRTIO_INPUT_EVENT_QUEUE);
}

TEST(input_keyboard_config)
{
	char name[32] = { 0 };
	u8 n;

	setup(VIRTIO_INPUT_KEYBOARD);
	n = query(VIRTIO_INPUT_CFG_ID_NAME, 0);
	CHECK(n > 0 && n < sizeof(name));
	for (u8 i = 0; i < n; i++)
		name[i] = (char)vsim_bar_read(&sim, 0, sim.device + 8 + i, 1);
	CHECK(!strcmp(name, "Keel virtio keyboard"));
	CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY), 32); /* codes up to 255 */
	CHECK(bit(30) && bit(1) && bit(255) && !bit(0));       /* KEY_A, KEY_ESC */
	CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_ABS), 0);
	CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_LED), 1);
	CHECK_EQ(query(VIRTIO_INPUT_CFG_ID_DEVIDS, 0), 8);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 8, 2), BUS_VIRTUAL);
	CHECK_EQ(query(VIRTIO_INPUT_CFG_PROP_BITS, 0), 0);
	CHECK_EQ(query(0x77, 3), 0); /* unknown selector */
	vsim_free(&sim);
}

TEST(input_tablet_config)
{
	setup(VIRTIO_INPUT_TABLET);
	CHECK(query(VIRTIO_INPUT_CFG_EV_BITS, EV_KEY) > 0);
	CHECK(bit(BTN_LEFT) && bit(BTN_RIGHT) && bit(BTN_MIDDLE) && !bit(30));
	CHECK_EQ(query(VIRTIO_INPUT_CFG_EV_BITS, EV_ABS), 1);
	CHECK(bit(ABS_X) && bit(ABS_Y));
	CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, ABS_Y), 20);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 8 + 4, 4), VIRTIO_INPUT_ABS_MAX);
	CHECK_EQ(query(VIRTIO_INPUT_CFG_ABS_INFO, 5), 0);
	/* a 2-byte write sets select and subsel together */
	vsim_bar_write(&sim, 0, sim.device, 2, EV_REL << 8 | VIRTIO_INPUT_CFG_EV_BITS);
	CHECK_EQ(vsim_bar_read(&sim, 0, sim.device + 2, 1), 2);
	CHECK(bit(REL_WHEEL));
	vsim_free(&sim);
}

TEST(input_events_wait_for_buffers)
{
	const struct virtio_input_event press[] = { { EV_KEY, 30, 1 }, { EV_SYN, SYN_REPORT, 0 } };
	struct virtio_input_event got;
	gpa_t addr[3];
	u32 id, len;

	setup(VIRTIO_INPUT_KEYBOARD);
	CHECK(virtio_input_send(&in, press, 2)); /* held: no buffers yet */
	CHECK_EQ(vsim_used(&sim, VIRTIO_INPUT_EVENT_QUEUE, &id, &len), 0);
	post_events(1, addr);
	CHECK_EQ(vsim_used(&sim, VIRTIO_INPUT_EVENT_QUEUE, &id, &len), 1);
	CHECK_EQ(len, 8);
	memcpy(&got, vsim_ptr(&sim, addr[0]), sizeof(got));
	CHECK(got.type == EV_KEY && got.code == 30 && got.value == 1);
	CHECK_EQ(in.count, 1);
	post_events(2, addr + 1);
	CHECK_EQ(vsim_used(&sim, VIRTIO_INPUT_EVENT_QUEUE, &id, &len), 1);
	memcpy(&got, vsim_ptr(&sim, addr[1]), sizeof(got));
	CHECK(got.type == EV_SYN && got.code == SYN_REPORT);
	CHECK_EQ(in.count, 0);
	CHECK(sim.msi_vec[1] >= 1);
	vsim_free(&sim);
}

TEST(input_full_hold_drops_whole_groups)
{
	struct virtio_input_event ev[VIRTIO_INPUT_PENDING] = { 0 };

	setup(VIRTIO_INPUT_KEYBOARD);
	CHECK(virtio_input_send(&in, ev, VIRTIO_INPUT_PENDING - 1));
	CHECK(!virtio_input_send(&in, ev, 2));
	CHECK_EQ(in.count, VIRTIO_INPUT_PENDING - 1);
	CHECK_EQ(in.dropped, 2);
	vsim_common_write(&sim, 0x14, 1, 0); /* reset: the held events go */
	CHECK_EQ(in.count, 0);
	vsim_free(&sim);
}

TEST(input_led_status)
{
	struct virtio_input_event ev = { EV_LED, 1, 1 };
	struct vsim_seg seg;
	u32 id, len;

	setup(VIRTIO_INPUT_KEYBOARD);
	seg = (struct vsim_seg){ vsim_alloc_copy(&sim, &ev, sizeof(ev)), sizeof(ev) };
	vsim_post(&sim, VIRTIO_INPUT_STATUS_QUEUE, &seg, 1, 0, false);
	vsim_kick(&sim, VIRTIO_INPUT_STATUS_QUEUE);
	CHECK_EQ(vsim_used(&sim, VIRTIO_INPUT_STATUS_QUEUE, &id, &len), 1);
	CHECK_EQ(leds, 1);
	CHECK(led.type == EV_LED && led.code == 1 && led.value == 1);
	vsim_free(&sim);
}

TEST(input_bad_buffers_need_reset)
{
	const struct virtio_input_event ev = { EV_KEY, 2, 1 };
	struct vsim_seg seg = { 0, 4 };

	setup(VIRTIO_INPUT_KEYBOARD);
	seg.addr = vsim_alloc(&sim, 4, 4); /* too small for an event */
	vsim_post(&sim, VIRTIO_INPUT_EVENT_QUEUE, &seg, 0, 1, false);
	vsim_kick(&sim, VIRTIO_INPUT_EVENT_QUEUE);
	virtio_input_send(&in, &ev, 1);
	CHECK(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK(strstr(virtio_dev_fault(&in.dev), "smaller than an event"));
	vsim_free(&sim);

	setup(VIRTIO_INPUT_KEYBOARD);
	seg = (struct vsim_seg){ vsim_alloc(&sim, 8, 8), 8 };
	vsim_post(&sim, VIRTIO_INPUT_STATUS_QUEUE, &seg, 0, 1, false); /* writable status buffer */
	vsim_kick(&sim, VIRTIO_INPUT_STATUS_QUEUE);
	CHECK(vsim_status(&sim) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
	CHECK(strstr(virtio_dev_fault(&in.dev), "device-writable"));
	vsim_free(&sim);
}
