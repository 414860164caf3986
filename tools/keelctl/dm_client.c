// SPDX-License-Identifier: MIT
/* keelctl's side of keel-dm's socket: a request line, answer lines, "ok ..." or "error ..." last. */
#include "keelctl.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

int dm_client_open(const char *request)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	struct timeval limit = { .tv_sec = 10 }; /* a keel-dm that hangs is one that does not run */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t len = strlen(request);

	snprintf(a.sun_path, sizeof(a.sun_path), "%s", KEEL_DM_SOCKET);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof(limit));
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (write(fd, request, len) != (ssize_t)len || write(fd, "\n", 1) != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Byte by byte: after a console's "ok" the stream follows at once. */
int dm_client_line(int fd, char *buf, size_t len)
{
	size_t n = 0;
	char ch;

	while (read(fd, &ch, 1) == 1) {
		if (ch == '\n') {
			buf[n] = 0;
			return 0;
		}
		if (n + 1 < len)
			buf[n++] = ch;
	}
	return -1;
}

int dm_client_call(const char *request, void (*each)(const char *line), char *msg, size_t len)
{
	int fd = dm_client_open(request), r = -1;
	char line[512];

	if (fd < 0) {
		snprintf(msg, len, "keel-dm is not running: start it with 'keel-dm'");
		return -1;
	}
	snprintf(msg, len, "keel-dm gave no answer (see /run/keel-dm.log)");
	while (!dm_client_line(fd, line, sizeof(line))) {
		if (!strncmp(line, "ok", 2) && (!line[2] || line[2] == ' ')) {
			snprintf(msg, len, "%s", line[2] ? line + 3 : "");
			r = 0;
			break;
		}
		if (!strncmp(line, "error ", 6)) {
			snprintf(msg, len, "%s", line + 6);
			break;
		}
		if (each)
			each(line);
	}
	close(fd);
	return r;
}
