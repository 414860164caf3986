// SPDX-License-Identifier: MIT
/* The virtio-gpu display's EDID 1.4 base block (VESA E-EDID Release A, Rev. 2). */
#include <virtio/gpu.h>
#include <lib/string.h>

/* E-EDID 3.9: a standard timing, (width / 8 - 31, aspect << 6 | (refresh - 60)). */
#define STD_16_10 0x00
#define STD_4_3 0x40
#define STD_5_4 0x80
#define STD_16_9 0xc0
static const u8 standard_timings[8][2] = {
	{ 1152 / 8 - 31, STD_4_3 },   { 1280 / 8 - 31, STD_16_9 },  { 1280 / 8 - 31, STD_16_10 },
	{ 1280 / 8 - 31, STD_5_4 },   { 1440 / 8 - 31, STD_16_10 }, { 1600 / 8 - 31, STD_16_9 },
	{ 1680 / 8 - 31, STD_16_10 }, { 1920 / 8 - 31, STD_16_9 },
};

/*
 * E-EDID 3.10.2: an 18-byte detailed timing for width x height at 60 Hz,
 * with VESA CVT reduced blanking's fixed parts (CVT 1.2 table 5-4: 160
 * pixels of horizontal blank, 48 front porch, 32 sync; 3 lines front
 * porch, a vertical blank of at least 460 us).
 */
static void edid_detailed(u8 *d, u32 w, u32 h)
{
	u32 hblank = 160, hfront = 48, hsync = 32, vfront = 3, vsync = 6;
	u32 vblank = MAX((h * 276 + 9723) / 9724, vfront + vsync + 6); /* 0.0276 = 460 us * 60 */
	u32 clock = (w + hblank) * (h + vblank) * 60 / 10000;	       /* in 10 kHz */
	u32 wmm = 480, hmm = wmm * h / w;

	d[0] = (u8)clock;
	d[1] = (u8)(clock >> 8);
	d[2] = (u8)w;
	d[3] = (u8)hblank;
	d[4] = (u8)((w >> 8) << 4 | hblank >> 8);
	d[5] = (u8)h;
	d[6] = (u8)vblank;
	d[7] = (u8)((h >> 8) << 4 | vblank >> 8);
	d[8] = (u8)hfront;
	d[9] = (u8)hsync;
	d[10] = (u8)(vfront << 4 | vsync);
	d[11] = (u8)((hfront >> 8) << 6 | (hsync >> 8) << 4);
	d[12] = (u8)wmm;
	d[13] = (u8)hmm;
	d[14] = (u8)((wmm >> 8) << 4 | hmm >> 8);
	d[17] = 0x1a; /* digital separate sync, hsync +, vsync - */
}

/* E-EDID 3.10.3: a display descriptor: tag, then 13 bytes of text or data. */
static void edid_text(u8 *d, u8 tag, const char *s)
{
	u32 n = (u32)strlen(s);

	d[3] = tag;
	memset(d + 5, ' ', 13);
	memcpy(d + 5, s, n);
	d[5 + n] = '\n';
}

void virtio_gpu_edid(u8 e[128], u32 width, u32 height)
{
	static const u8 header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	/* E-EDID 3.7: sRGB primaries and white point, 10-bit fixed point. */
	static const u8 srgb[10] = { 0xee, 0x91, 0xa3, 0x54, 0x4c, 0x99, 0x26, 0x0f, 0x50, 0x54 };
	static const u8 range[13] = {
		50, 75, 30, 160, 17, 0x01, '\n', ' ', ' ', ' ', ' ', ' ', ' '
	};
	u8 sum = 0;

	memset(e, 0, 128);
	memcpy(e, header, sizeof(header));
	/* E-EDID 3.4: manufacturer "KEE" in 5-bit letters (A = 1), big-endian. */
	e[8] = (u8)(('K' - '@') << 2 | ('E' - '@') >> 3);
	e[9] = (u8)((('E' - '@') & 7) << 5 | ('E' - '@'));
	e[10] = 0x01; /* product code */
	e[16] = 1;    /* week */
	e[17] = 2026 - 1990;
	e[18] = 1; /* EDID 1.4 */
	e[19] = 4;
	e[20] = 0x80; /* digital input */
	e[21] = 48;   /* cm: 480 mm, as the detailed timing says */
	e[22] = (u8)(48 * height / width);
	e[23] = 120;  /* gamma 2.2: (2.2 - 1) * 100 */
	e[24] = 0x06; /* sRGB default colour space, the preferred timing is native */
	memcpy(e + 25, srgb, sizeof(srgb));
	/* E-EDID 3.8: established timings 640x480@60, 800x600@60, 1024x768@60. */
	e[35] = 0x21;
	e[36] = 0x08;
	memcpy(e + 38, standard_timings, sizeof(standard_timings));
	edid_detailed(e + 54, width, height);
	/* E-EDID 3.10.3.3: range limits 50-75 Hz, 30-160 kHz, 170 MHz; no extra timing formula. */
	e[72 + 3] = 0xfd;
	memcpy(e + 72 + 5, range, sizeof(range));
	edid_text(e + 90, 0xfc, "Keel display");
	edid_text(e + 108, 0xff, "0");
	for (int i = 0; i < 127; i++)
		sum += e[i];
	e[127] = (u8)(0x100 - sum);
}
