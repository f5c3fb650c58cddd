/* SPDX-License-Identifier: MIT */
/*
 * license-server: a floating-license server, a daemon outside the
 * computation.  K seats on 127.0.0.1; many clients at once (a poll loop).
 * Line protocol:
 *
 *   CHECKOUT <feature>   GRANTED seat=<k>  or  DENIED in-use=<used>/<K>
 *   RELEASE              OK   (the connection's seat is free again)
 *   STATUS               OK in-use=<used>/<K>
 *
 * A connection holds at most one seat; closing it releases the seat.
 * Usage: license-server [--port N] [--seats K]   prints "PORT <n>"
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "eda-net.h"

#define MAX_CLIENTS 64
#define MAX_SEATS 64
#define LINE_MAX_LEN 256

struct client {
	int fd;   /* -1: slot free */
	int seat; /* 0: none, else 1..seats */
	size_t len;
	char buf[LINE_MAX_LEN];
};

static volatile sig_atomic_t stopping;
static struct client clients[MAX_CLIENTS];
static int seat_taken[MAX_SEATS + 1];
static int seats = 1;

static void on_signal(int sig)
{
	stopping = sig;
}

static int seats_in_use(void)
{
	int n = 0;

	for (int k = 1; k <= seats; k++)
		n += seat_taken[k];
	return n;
}

static void release(struct client *c)
{
	if (c->seat)
		seat_taken[c->seat] = 0;
	c->seat = 0;
}

static int valid_feature(const char *f)
{
	size_t n = strlen(f);

	if (n == 0 || n > 63)
		return 0;
	for (; *f; f++)
		if (!(*f == '-' || *f == '_' || *f == '.' || (*f >= '0' && *f <= '9') ||
		      (*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z')))
			return 0;
	return 1;
}

static void handle(struct client *c, const char *line, char *reply, size_t cap)
{
	if (strncmp(line, "CHECKOUT ", 9) == 0 && valid_feature(line + 9)) {
		for (int k = 1; !c->seat && k <= seats; k++) {
			if (!seat_taken[k]) {
				seat_taken[k] = 1;
				c->seat = k;
			}
		}
		if (c->seat)
			snprintf(reply, cap, "GRANTED seat=%d", c->seat);
		else
			snprintf(reply, cap, "DENIED in-use=%d/%d", seats_in_use(), seats);
	} else if (strcmp(line, "RELEASE") == 0) {
		release(c);
		snprintf(reply, cap, "OK");
	} else if (strcmp(line, "STATUS") == 0) {
		snprintf(reply, cap, "OK in-use=%d/%d", seats_in_use(), seats);
	} else {
		snprintf(reply, cap, "ERR usage: CHECKOUT <feature>, RELEASE or STATUS");
	}
}

static void drop(struct client *c)
{
	release(c);
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Read what the client sent and answer each complete line. */
static void serve(struct client *c)
{
	char reply[LINE_MAX_LEN + 32], *nl;
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		drop(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;
		*nl = 0;
		if (nl > c->buf && nl[-1] == '\r')
			nl[-1] = 0;
		handle(c, c->buf, reply, sizeof(reply) - 1);
		strcat(reply, "\n");
		if (eda_write_all(c->fd, reply, strlen(reply)) < 0) {
			drop(c);
			return;
		}
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf)) {
		eda_write_all(c->fd, "ERR line too long\n", 18);
		drop(c);
	}
}

static void accept_client(int lfd)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].seat = 0;
			clients[i].len = 0;
			return;
		}
	}
	eda_write_all(fd, "ERR too many clients\n", 21);
	close(fd);
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "seats", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[MAX_CLIENTS + 1];
	int c, port = 0, lfd, bound;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'p' && parse_int(optarg, 0, 65535, &port) == 0)
			continue;
		if (c == 's' && parse_int(optarg, 1, MAX_SEATS, &seats) == 0)
			continue;
		fprintf(c == 'h' ? stdout : stderr,
			"usage: license-server [--port N] [--seats K]\n"
			"  K floating seats (1-%d) on 127.0.0.1:N (0: a free port, printed as\n"
			"  \"PORT <n>\").\n", MAX_SEATS);
		return c == 'h' ? 0 : 1;
	}
	if (optind != argc) {
		fprintf(stderr, "license-server: unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (int i = 0; i < MAX_CLIENTS; i++)
		clients[i].fd = -1;
	lfd = eda_listen(port, &bound);
	if (lfd < 0) {
		fprintf(stderr, "license-server: cannot listen on 127.0.0.1:%d: %s\n", port,
			strerror(-lfd));
		return 1;
	}
	printf("PORT %d\n", bound);
	fflush(stdout);
	while (!stopping) {
		pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++)
			pfd[i + 1] = (struct pollfd){ .fd = clients[i].fd, .events = POLLIN };
		if (poll(pfd, MAX_CLIENTS + 1, -1) < 0)
			continue; /* EINTR: check stopping */
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (clients[i].fd >= 0 && pfd[i + 1].revents)
				serve(&clients[i]);
		if (pfd[0].revents & POLLIN)
			accept_client(lfd);
	}
	fprintf(stderr, "license-server: stopped by signal %d\n", (int)stopping);
	return 0;
}
