/* SPDX-License-Identifier: MIT */
/* What keelctl's files share: command helpers, the commands in their own files, keel-dm's socket. */
#ifndef KEELCTL_KEELCTL_H
#define KEELCTL_KEELCTL_H

#include "ctl.h"

extern const char keelctl_usage[];

/* What --firmware boots unless told: the OVMF that make usb puts on the boot stick. */
#define KEELCTL_FIRMWARE "/mnt/keel/OVMF_CODE_4M.fd"

/* keelctl.c */
struct kctl_cmd *new_cmd(enum kctl_op op, const char *name);
/* Runs cmd; exits with "what: why" if it fails. */
void check(struct ctl *c, struct kctl_cmd *cmd, const char *what);

/* Waits (up to 30 s) until a destroyed VM is gone; exits saying so if it is not. */
void destroy_wait(struct ctl *c, const char *name);

/* create.c */
int cmd_create(struct ctl *c, int argc, char **argv);

/* restart.c: how each VM was created, so that keelctl start can start a stopped one again */
#define KEELCTL_RECORDS "/run/keelctl"
void record_create(int argc, char **argv);
void record_forget(const char *name);
int recreate(struct ctl *c, const char *name, const char *state);

/* screenshot.c */
int cmd_screenshot(const char *name, const char *file);

/* console.c */
int console_run(struct ctl *c, const char *name, unsigned vm_id);

/* dm_client.c: one request to keel-dm, one connection. */
/* Connects and sends the request line; the socket, or -1 (errno) when keel-dm is not running. */
int dm_client_open(const char *request);
/* One answer line without its newline; -1 at the end of the answer. */
int dm_client_line(int fd, char *buf, size_t len);
/*
 * The whole exchange: lines before the last go to each (if not NULL);
 * 0 and msg = the rest of an "ok" line, or -1 and msg = the error.
 */
int dm_client_call(const char *request, void (*each)(const char *line), char *msg, size_t len);

#endif
