/* SPDX-License-Identifier: MIT */
/*
 * libemu-plugin.so: the emulator vendor's Cocoon plugin.  The emulator is
 * outside the computation; this plugin keeps the test bench's session to it
 * consistent across checkpoints and restarts:
 *
 * - wraps emu_open() to learn the session (its fd, marked external, and the
 *   emulator's address), emu_close() to forget it, and emu_transact() to
 *   count the transactions in flight;
 * - PRESUSPEND: new transactions wait in the wrapper, and the checkpoint
 *   waits (10 s at most) until none is in flight; then the "emu-drained"
 *   barrier, so that every process has drained before any is suspended;
 * - PRECHECKPOINT: the emulator saves the design beside the images
 *   (SAVE <image dir>/emulator.state), and the section "emu" keeps the fd
 *   number, the path and the cycle;
 * - RESUME: transactions flow again;
 * - RESTART: connect to $EMU_ADDR (the restored environment: `cocoon restart
 *   --setenv EMU_ADDR=...` picks another emulator), put the connection at
 *   the old fd number, LOAD the state, check its cycle; transactions flow.
 *
 * One session per process is followed: the one opened last.  From
 * PRECHECKPOINT to RUNNING the program's threads are stopped: no malloc or
 * stdio here then, only stack buffers and system calls.
 */
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cocoon.h"
#include "eda-net.h"
#include "plugin-conn.h"

#define DRAIN_TIMEOUT_S 10
#define REPLY_TIMEOUT_MS 10000
#define STATE_FILE "emulator.state"
#define SECTION "emu"
#define SECTION_MAGIC 0x454d5550u /* "EMUP" */
#define SECTION_VERSION 1

struct emu;

/* What a restart needs, kept in the image. */
struct emu_section {
	uint32_t magic, version;
	struct saved_conn conn;
	uint64_t cycle;          /* the design's cycle when saved */
	char addr[128];          /* the emulator it was saved from */
	char state_path[PATH_MAX];
};

static struct emu *(*next_open)(const char *addr);
static void (*next_close)(struct emu *e);
static int (*next_transact)(struct emu *e, const char *req, char *reply, size_t cap);
static int (*session_fd_of)(struct emu *e);

/* The session followed (fd -1: none). */
static struct {
	struct emu *emu;
	int fd;
	char addr[128];
} session = { .fd = -1 };

/* The gate: closed from PRESUSPEND to RESUME/RESTART.  Entering and leaving
 * take no lock (a thread may be stopped anywhere, and the checkpoint thread
 * must never wait for it); only the drain waits, on a condition variable
 * that leaving threads signal while the gate is closed. */
static atomic_int gate_closed;
static atomic_int in_flight;
static pthread_mutex_t drain_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t drained;

static void futex_wait(atomic_int *word, int val)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void gate_open(void)
{
	atomic_store(&gate_closed, 0);
	syscall(SYS_futex, &gate_closed, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static void transaction_end(void)
{
	if (atomic_fetch_sub(&in_flight, 1) == 1 && atomic_load(&gate_closed)) {
		pthread_mutex_lock(&drain_lock);
		pthread_cond_broadcast(&drained);
		pthread_mutex_unlock(&drain_lock);
	}
}

static void transaction_begin(void)
{
	for (;;) {
		atomic_fetch_add(&in_flight, 1);
		if (!atomic_load(&gate_closed))
			return;
		transaction_end(); /* back out, wait for the gate */
		futex_wait(&gate_closed, 1);
	}
}

/* Close the gate and wait until no transaction is in flight; 0 or
 * -ETIMEDOUT (the gate is open again then). */
static int drain(void)
{
	struct timespec deadline;
	int left, err = 0;

	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += DRAIN_TIMEOUT_S;
	pthread_mutex_lock(&drain_lock);
	atomic_store(&gate_closed, 1);
	while (atomic_load(&in_flight) > 0 && err != ETIMEDOUT)
		err = pthread_cond_timedwait(&drained, &drain_lock, &deadline);
	left = atomic_load(&in_flight);
	pthread_mutex_unlock(&drain_lock);
	if (left > 0) {
		gate_open();
		cocoon_error("emu: %d transaction(s) with the emulator at %s still in flight after "
			     "%d s", left, session.addr, DRAIN_TIMEOUT_S);
		return -ETIMEDOUT;
	}
	return 0;
}

struct emu *emu_open(const char *addr)
{
	struct emu *e;

	if (!next_open) {
		errno = ENOSYS;
		return NULL;
	}
	e = next_open(addr);
	if (e && cocoon_is_active() && session_fd_of) {
		session.emu = e;
		session.fd = session_fd_of(e);
		snprintf(session.addr, sizeof(session.addr), "%s", addr);
		if (cocoon_fd_external(session.fd) < 0)
			fprintf(stderr, "emu: cannot mark the session fd %d external\n", session.fd);
	}
	return e;
}

void emu_close(struct emu *e)
{
	if (e && e == session.emu) {
		session.emu = NULL;
		session.fd = -1;
	}
	if (next_close)
		next_close(e);
}

int emu_transact(struct emu *e, const char *req, char *reply, size_t cap)
{
	int ret;

	if (!next_transact)
		return -ENOSYS;
	transaction_begin();
	ret = next_transact(e, req, reply, cap);
	transaction_end();
	return ret;
}

/* "OK cycle=<c>..." into *cycle; 0 or -1. */
static int reply_cycle(const char *reply, uint64_t *cycle)
{
	char *end;

	if (strncmp(reply, "OK cycle=", 9) != 0)
		return -1;
	errno = 0;
	*cycle = strtoull(reply + 9, &end, 10);
	return errno || end == reply + 9 || (*end && *end != ' ') ? -1 : 0;
}

static int save_state(void)
{
	struct emu_section sec = { .magic = SECTION_MAGIC, .version = SECTION_VERSION };
	const char *dir = cocoon_image_dir();
	char req[PATH_MAX + 16], reply[512];
	int n;

	if (session.fd < 0)
		return 0; /* no session: nothing to keep */
	if (!dir || dir[0] != '/' ||
	    snprintf(sec.state_path, sizeof(sec.state_path), "%s/%s", dir, STATE_FILE) >=
		    (int)sizeof(sec.state_path)) {
		cocoon_error("emu: no usable image directory for the emulator's state (%s)",
			     dir ? dir : "none");
		return -EINVAL;
	}
	if ((n = conn_save(session.fd, &sec.conn)) < 0) {
		cocoon_error("emu: the session fd %d: %s", session.fd, conn_strerror(-n));
		return n;
	}
	snprintf(req, sizeof(req), "SAVE %s", sec.state_path);
	n = eda_request(session.fd, req, reply, sizeof(reply), REPLY_TIMEOUT_MS);
	if (n < 0) {
		cocoon_error("emu: the emulator at %s did not save the design: %s", session.addr,
			     conn_strerror(-n));
		return n;
	}
	if (reply_cycle(reply, &sec.cycle) < 0) {
		cocoon_error("emu: the emulator at %s cannot save the design: %.300s", session.addr,
			     reply);
		return -EIO;
	}
	snprintf(sec.addr, sizeof(sec.addr), "%s", session.addr);
	return cocoon_section_write(SECTION, &sec, sizeof(sec));
}

/* The section of the image restarted from: 1 (in *out), 0 if there was
 * no session at the checkpoint, -EINVAL if it is damaged. */
static int read_section(const struct emu_section **out)
{
	const struct emu_section *sec;
	size_t len;

	sec = cocoon_section_read(SECTION, &len);
	if (!sec)
		return 0;
	if (len != sizeof(*sec) || sec->magic != SECTION_MAGIC ||
	    sec->version != SECTION_VERSION || !conn_valid(&sec->conn) ||
	    !memchr(sec->addr, 0, sizeof(sec->addr)) ||
	    !memchr(sec->state_path, 0, sizeof(sec->state_path)) || sec->state_path[0] != '/') {
		cocoon_error("emu: the plugin's section in the image is damaged");
		return -EINVAL;
	}
	*out = sec;
	return 1;
}

static int reconnect(void)
{
	const struct emu_section *sec = NULL;
	const char *addr = getenv("EMU_ADDR"), *dir = cocoon_image_dir();
	char path[PATH_MAX], req[PATH_MAX + 16], reply[512];
	uint64_t cycle;
	int n;

	/* session.emu is the program's struct emu, back with its memory. */
	session.fd = -1;
	if ((n = read_section(&sec)) <= 0)
		return n; /* 0: there was no session at the checkpoint */
	if (!addr || !*addr)
		addr = sec->addr;
	if (strlen(addr) >= sizeof(session.addr)) {
		cocoon_error("emu: EMU_ADDR is too long");
		return -ENAMETOOLONG;
	}
	/* The state sits beside the image restarted from, wherever it is now. */
	if (!dir || snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE) >= (int)sizeof(path))
		snprintf(path, sizeof(path), "%s", sec->state_path);
	if ((n = conn_replace(&sec->conn, addr, REPLY_TIMEOUT_MS)) < 0) {
		cocoon_error("emu: cannot reach the emulator at %s: %s", addr, conn_strerror(-n));
		return n;
	}
	snprintf(req, sizeof(req), "LOAD %s", path);
	n = eda_request(sec->conn.fd, req, reply, sizeof(reply), REPLY_TIMEOUT_MS);
	if (n < 0) {
		cocoon_error("emu: cannot reach the emulator at %s: %s%s", addr, conn_strerror(-n),
			     n == -ETIMEDOUT ? " (busy with another client?)" : "");
		return n;
	}
	if (reply_cycle(reply, &cycle) < 0) {
		cocoon_error("emu: the emulator at %s cannot load the design: %.300s", addr, reply);
		return -EIO;
	}
	if (cycle != sec->cycle) {
		cocoon_error("emu: %s holds cycle %" PRIu64 ", the checkpoint was taken at cycle %"
			     PRIu64, path, cycle, sec->cycle);
		return -EIO;
	}
	session.fd = sec->conn.fd;
	snprintf(session.addr, sizeof(session.addr), "%s", addr);
	return 0;
}

static int emu_event(enum cocoon_event ev, void *arg)
{
	int err;

	switch (ev) {
	case COCOON_EV_PRESUSPEND:
		return drain();
	case COCOON_EV_PRECHECKPOINT:
		return save_state();
	case COCOON_EV_RESUME:
		gate_open();
		return 0;
	case COCOON_EV_RESTART:
		err = reconnect();
		gate_open(); /* plugins above (fault injection) may transact now */
		return err;
	default:
		return 0;
	}
}

static const struct cocoon_barrier emu_barriers[] = {
	{ COCOON_EV_PRESUSPEND, "emu-drained", COCOON_BARRIER_GLOBAL, NULL },
	{ 0, NULL, 0, NULL },
};

static const struct cocoon_plugin emu_plugin = {
	.api_version = COCOON_API_VERSION,
	.name = "emu",
	.event = emu_event,
	.barriers = emu_barriers,
};

__attribute__((constructor)) static void emu_plugin_init(void)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&drained, &attr);
	pthread_condattr_destroy(&attr);
	/* NULL in processes that do not use the emulator library. */
	next_open = (struct emu * (*)(const char *))dlsym(RTLD_NEXT, "emu_open");
	next_close = (void (*)(struct emu *))dlsym(RTLD_NEXT, "emu_close");
	next_transact = (int (*)(struct emu *, const char *, char *, size_t))dlsym(RTLD_NEXT,
										    "emu_transact");
	session_fd_of = (int (*)(struct emu *))dlsym(RTLD_DEFAULT, "emu_fd");
	cocoon_plugin_register(&emu_plugin);
}
