/* SPDX-License-Identifier: MIT */
/*
 * The application calls of include/cocoon.h: a program asks for a
 * checkpoint of its whole computation, and holds checkpoints off around a
 * critical section.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/proto.h"
#include "runtime/rt.h"

int cocoon_checkpoint(void)
{
	char host[256], line[PROTO_LINE_MAX];
	struct proto_buf *in;
	struct proto_msg m;
	int port, n = 0;

	if (!rt.active)
		return 0;
	if (proto_parse_addr(rt.coord, host, sizeof(host), &port) != 0)
		return -EINVAL;
	int fd = proto_connect(host, port, 5000);
	if (fd < 0)
		return fd;
	/* A program fd: in the image it is a socket to the outside, so after a
	 * restart it comes back reset -- that is how we know. */
	unsigned restarts = rt.restarts;
	in = malloc(sizeof(*in)); /* a program thread, before the checkpoint: malloc is safe */
	if (!in) {
		close(fd);
		return -ENOMEM;
	}
	in->len = 0;
	int err = proto_send(fd, "HELLO role=ctl secret=%s", rt.secret);
	if (!err)
		err = proto_send(fd, "CHECKPOINT");
	/* This thread is stopped in the read below while the checkpoint runs. */
	while (!err && (n = proto_read_line(fd, in, line, sizeof(line), -1)) > 0) {
		if (proto_parse(line, &m) != 0)
			continue;
		if (strcmp(m.verb, "OK") == 0)
			break;
		if (strcmp(m.verb, "ERR") == 0) {
			err = -EIO;
			break;
		}
	}
	free(in);
	close(fd);
	if (rt.restarts != restarts)
		return 1;
	return err ? err : (n < 0 ? n : 0);
}

void cocoon_disable(void)
{
	if (rt.active)
		rt_hold_enter();
}

void cocoon_enable(void)
{
	if (rt.active)
		rt_hold_leave();
}
