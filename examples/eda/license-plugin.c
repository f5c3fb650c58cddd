/* SPDX-License-Identifier: MIT */
/*
 * liblicense-plugin.so: keeps the test bench's license seat right across
 * checkpoints and restarts.  The license server is outside the computation.
 *
 * - wraps lic_checkout() to learn the seat's connection (marked external),
 *   feature and server;
 * - PRECHECKPOINT: gives the seat back (RELEASE) and keeps, in the section
 *   "license", the fd number, the feature and the server;
 * - RESUME: checks the seat out again on the same connection;
 * - RESTART: connects to $LICENSE_ADDR (the restored environment), puts
 *   the connection at the old fd number and checks a seat out; none free:
 *   the restart fails with "license: no seat free for F at ADDR (U/K in use)".
 *
 * One seat per process is followed: the one checked out last.  From
 * PRECHECKPOINT to RUNNING the program's threads are stopped: no malloc or
 * stdio here then.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cocoon.h"
#include "eda-net.h"
#include "plugin-conn.h"

#define REPLY_TIMEOUT_MS 10000
#define SECTION "license"
#define SECTION_MAGIC 0x4c494350u /* "LICP" */
#define SECTION_VERSION 1

struct license_section {
	uint32_t magic, version;
	struct saved_conn conn;
	char feature[64];
	char addr[128];
};

static int (*next_checkout)(const char *addr, const char *feature);

/* The seat followed (fd -1: none), and the socket it was checked out on. */
static struct {
	int fd;
	dev_t dev;
	ino_t ino;
	char feature[64];
	char addr[128];
} seat = { .fd = -1 };

/* Follow the seat held on fd. */
static void seat_set(int fd)
{
	struct stat st;

	seat.fd = -1;
	if (fstat(fd, &st) == 0) {
		seat.fd = fd;
		seat.dev = st.st_dev;
		seat.ino = st.st_ino;
	}
}

/* seat.fd still holds the seat's socket (the program closes it to give the
 * seat back, and the number may have been reused since). */
static int seat_open(void)
{
	struct stat st;

	return seat.fd >= 0 && fstat(seat.fd, &st) == 0 && st.st_dev == seat.dev &&
	       st.st_ino == seat.ino;
}

int lic_checkout(const char *addr, const char *feature)
{
	int fd;

	if (!next_checkout) {
		errno = ENOSYS;
		return -1;
	}
	fd = next_checkout(addr, feature);
	if (fd >= 0 && cocoon_is_active() && strlen(feature) < sizeof(seat.feature) &&
	    strlen(addr) < sizeof(seat.addr)) {
		seat_set(fd);
		snprintf(seat.feature, sizeof(seat.feature), "%s", feature);
		snprintf(seat.addr, sizeof(seat.addr), "%s", addr);
		if (cocoon_fd_external(fd) < 0)
			fprintf(stderr, "license: cannot mark the seat's fd %d external\n", fd);
	}
	return fd;
}

/* CHECKOUT on fd; 0, -EBUSY (reply says the seats in use), -errno. */
static int checkout(int fd, char *reply, size_t cap)
{
	char req[96];
	int n;

	snprintf(req, sizeof(req), "CHECKOUT %s", seat.feature);
	n = eda_request(fd, req, reply, cap, REPLY_TIMEOUT_MS);
	if (n < 0)
		return n;
	if (strncmp(reply, "GRANTED ", 8) == 0)
		return 0;
	return strncmp(reply, "DENIED in-use=", 14) == 0 ? -EBUSY : -EPROTO;
}

static int give_back(void)
{
	struct license_section sec = { .magic = SECTION_MAGIC, .version = SECTION_VERSION };
	char reply[128];
	int n;

	if (!seat_open())
		return 0;
	if ((n = conn_save(seat.fd, &sec.conn)) < 0) {
		cocoon_error("license: the seat's fd %d: %s", seat.fd, conn_strerror(-n));
		return n;
	}
	n = eda_request(seat.fd, "RELEASE", reply, sizeof(reply), REPLY_TIMEOUT_MS);
	if (n < 0 || strcmp(reply, "OK") != 0) {
		cocoon_error("license: cannot give the seat back to %s: %s", seat.addr,
			     n < 0 ? conn_strerror(-n) : reply);
		return n < 0 ? n : -EPROTO;
	}
	memcpy(sec.feature, seat.feature, sizeof(sec.feature));
	memcpy(sec.addr, seat.addr, sizeof(sec.addr));
	return cocoon_section_write(SECTION, &sec, sizeof(sec));
}

/* After a checkpoint, on the same connection.  RESUME cannot fail: say so on
 * stderr and go on without the seat. */
static void take_again(void)
{
	char reply[128], line[400];
	int n, err;

	if (!seat_open())
		return;
	err = checkout(seat.fd, reply, sizeof(reply));
	if (!err)
		return;
	n = snprintf(line, sizeof(line), "license: lost the seat for %s at %s: %s\n", seat.feature,
		     seat.addr, err == -EBUSY || err == -EPROTO ? reply : conn_strerror(-err));
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* nowhere else to say it */
	}
}

static int reclaim(void)
{
	const struct license_section *sec;
	const char *addr = getenv("LICENSE_ADDR");
	char reply[128];
	size_t len;
	int err;

	seat.fd = -1;
	sec = cocoon_section_read(SECTION, &len);
	if (!sec)
		return 0; /* no seat was held at the checkpoint */
	if (len != sizeof(*sec) || sec->magic != SECTION_MAGIC ||
	    sec->version != SECTION_VERSION || !conn_valid(&sec->conn) ||
	    !memchr(sec->feature, 0, sizeof(sec->feature)) || !sec->feature[0] ||
	    !memchr(sec->addr, 0, sizeof(sec->addr))) {
		cocoon_error("license: the plugin's section in the image is damaged");
		return -EINVAL;
	}
	if (!addr || !*addr)
		addr = sec->addr;
	if (strlen(addr) >= sizeof(seat.addr)) {
		cocoon_error("license: LICENSE_ADDR is too long");
		return -ENAMETOOLONG;
	}
	memcpy(seat.feature, sec->feature, sizeof(seat.feature));
	snprintf(seat.addr, sizeof(seat.addr), "%s", addr);
	if ((err = conn_replace(&sec->conn, addr, REPLY_TIMEOUT_MS)) < 0) {
		cocoon_error("license: cannot reach the license server at %s: %s", addr,
			     conn_strerror(-err));
		return err;
	}
	err = checkout(sec->conn.fd, reply, sizeof(reply));
	if (err == -EBUSY) {
		cocoon_error("license: no seat free for %s at %s (%.40s in use)", seat.feature, addr,
			     reply + 14);
		return err;
	}
	if (err) {
		cocoon_error("license: cannot check a seat out for %s at %s: %s", seat.feature, addr,
			     err == -EPROTO ? reply : conn_strerror(-err));
		return err;
	}
	seat_set(sec->conn.fd);
	return 0;
}

static int license_event(enum cocoon_event ev, void *arg)
{
	switch (ev) {
	case COCOON_EV_PRECHECKPOINT:
		return give_back();
	case COCOON_EV_RESUME:
		take_again();
		return 0;
	case COCOON_EV_RESTART:
		return reclaim();
	default:
		return 0;
	}
}

static const struct cocoon_plugin license_plugin = {
	.api_version = COCOON_API_VERSION,
	.name = "license",
	.event = license_event,
};

__attribute__((constructor)) static void license_plugin_init(void)
{
	next_checkout = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "lic_checkout");
	cocoon_plugin_register(&license_plugin);
}
