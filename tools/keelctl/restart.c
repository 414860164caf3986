// SPDX-License-Identifier: MIT
/*
 * keelctl start of a stopped (or dead) VM: Keel gave its memory back when it
 * stopped, so keelctl creates it again from the record it kept of the
 * create command (its directory and arguments, in KEELCTL_RECORDS), with
 * the same kernel files, devices and --vars file, and starts it from power-on.
 */
#include "keelctl.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAX 16384
#define RECORD_ARGS 128

static void record_path(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", KEELCTL_RECORDS, name);
}

void record_create(int argc, char **argv)
{
	char path[PATH_MAX], cwd[PATH_MAX];
	FILE *f;

	if (!getcwd(cwd, sizeof(cwd)))
		return;
	mkdir(KEELCTL_RECORDS, 0700);
	record_path(argv[0], path, sizeof(path));
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr,
			"keelctl: cannot keep %s (%s): a stopped %s cannot be started again\n",
			path, strerror(errno), argv[0]);
		return;
	}
	fwrite(cwd, 1, strlen(cwd) + 1, f); /* NUL-separated: the directory, then each argument */
	for (int i = 0; i < argc; i++)
		fwrite(argv[i], 1, strlen(argv[i]) + 1, f);
	fclose(f);
}

void record_forget(const char *name)
{
	char path[PATH_MAX];

	record_path(name, path, sizeof(path));
	unlink(path);
}

/* Creates the stopped VM name again as it was created; keelctl start then starts it. */
int recreate(struct ctl *c, const char *name, const char *state)
{
	static char buf[RECORD_MAX];
	static char *argv[RECORD_ARGS];
	char path[PATH_MAX];
	int fd, argc = 0;
	ssize_t n;

	record_path(name, path, sizeof(path));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		die("%s is %s, and keelctl has no record of how it was created (%s: %s); "
		    "create it again",
		    name, state, path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || buf[n - 1])
		die("%s: not a record keelctl made", path);
	for (char *p = buf; p < buf + n && argc < RECORD_ARGS; p += strlen(p) + 1)
		argv[argc++] = p;
	if (argc < 2 || strcmp(argv[1], name))
		die("%s: not a record keelctl made", path);
	if (chdir(argv[0]))
		die("%s was created in %s, which is gone: %s", name, argv[0], strerror(errno));
	destroy_wait(c, name);
	printf("%s was %s: creating it again as it was created\n", name, state);
	return cmd_create(c, argc - 1, argv + 1);
}
