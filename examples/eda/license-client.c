/* SPDX-License-Identifier: MIT */
/*
 * liblicense-client.so: the license server's client (see license-client.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eda-net.h"
#include "license-client.h"

#define LIC_EXPORT __attribute__((visibility("default")))
#define LIC_TIMEOUT_MS 10000

LIC_EXPORT int lic_checkout(const char *addr, const char *feature)
{
	char req[128], reply[256];
	int fd, n;

	if (!addr || !feature || !*feature || strlen(feature) > 63 || strpbrk(feature, " \n")) {
		fprintf(stderr, "license: bad license server address or feature name\n");
		errno = EINVAL;
		return -1;
	}
	fd = eda_connect(addr, LIC_TIMEOUT_MS);
	if (fd < 0) {
		fprintf(stderr, "license: cannot reach the license server at %s: %s\n", addr,
			strerror(-fd));
		errno = -fd;
		return -1;
	}
	snprintf(req, sizeof(req), "CHECKOUT %s", feature);
	n = eda_request(fd, req, reply, sizeof(reply), LIC_TIMEOUT_MS);
	if (n >= 0 && strncmp(reply, "GRANTED ", 8) == 0)
		return fd;
	close(fd);
	if (n >= 0 && strncmp(reply, "DENIED in-use=", 14) == 0) {
		fprintf(stderr, "license: no seat free for %s at %s (%s in use)\n", feature, addr,
			reply + 14);
		errno = EBUSY;
	} else if (n >= 0) {
		fprintf(stderr, "license: the server at %s answered '%s'\n", addr, reply);
		errno = EPROTO;
	} else {
		fprintf(stderr, "license: no answer from the license server at %s: %s\n", addr,
			strerror(-n));
		errno = -n;
	}
	return -1;
}

LIC_EXPORT int lic_release(int fd)
{
	char reply[64];
	int n = eda_request(fd, "RELEASE", reply, sizeof(reply), LIC_TIMEOUT_MS);

	close(fd);
	if (n < 0) {
		errno = -n;
		return -1;
	}
	if (strcmp(reply, "OK") != 0) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}
