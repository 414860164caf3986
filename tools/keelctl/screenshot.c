// SPDX-License-Identifier: MIT
/* keelctl screenshot: a guest's screen, from the screen file keel-dm publishes, as a PNG file. */
#include "keelctl.h"
#include "png.h"
#include "screen.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Maps NAME's screen file read-only; dies saying why there is none. */
static const struct screen *screen_map(const char *name)
{
	char req[64], path[512];
	void *p;
	int fd;

	snprintf(req, sizeof(req), "screen %s", name);
	if (dm_client_call(req, NULL, path, sizeof(path)))
		die("screenshot: %s", path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("screenshot: cannot open %s: %s", path, strerror(errno));
	p = mmap(NULL, SCREEN_BYTES, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		die("screenshot: cannot map %s: %s", path, strerror(errno));
	return p;
}

int cmd_screenshot(const char *name, const char *file)
{
	const struct screen *s = screen_map(name);
	uint32_t *px = malloc((size_t)SCREEN_MAX_W * SCREEN_MAX_H * 4), w = 0, h = 0;
	FILE *f;
	int i;

	if (!px)
		die("screenshot: out of memory");
	for (i = 0; i < 200 && screen_copy(s, px, &w, &h); i++) /* the guest keeps drawing: again */
		usleep(5000);
	if (i == 200)
		die("screenshot: %s's screen changed under every copy for 1 s", name);
	if (!w || !h)
		die("screenshot: %s's display is off (its driver has not set a mode)", name);
	f = fopen(file, "wb");
	if (!f)
		die("screenshot: cannot write %s: %s", file, strerror(errno));
	if (png_write(f, px, w, h) | fclose(f)) {
		unlink(file);
		die("screenshot: cannot write %s: %s", file, strerror(errno));
	}
	printf("wrote %s: %ux%u\n", file, w, h);
	return 0;
}
