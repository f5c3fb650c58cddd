// SPDX-License-Identifier: MIT
/*
 * tcp_echo OUTDIR NCLIENTS NMSG: a TCP echo computation on 127.0.0.1, for
 * tests/pending/tcp_server.sh.
 *
 * The parent listens on an ephemeral loopback port, forks a server (one
 * process, poll() over every connection, echoes what it reads) and NCLIENTS
 * clients.  Each client sends NMSG numbered 64-byte messages, one every
 * ~1.5 ms, keeping WINDOW of them unanswered: their echoes wait in its socket
 * receive queue, so data is always in flight.  It checks every echo against
 * what it sent (no loss, no duplication, same order), then shuts down its
 * side and expects end of stream.  Progress: OUTDIR/progress.ID holds the
 * number of echoes checked.  The server exits 0 when every connection has
 * ended with exactly NMSG * 64 bytes echoed.  The parent waits for all and
 * writes the verdict to OUTDIR/result (and stdout); exit 0 only on success.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MSG 64
#define WINDOW 16
#define MAXCLIENTS 16

static const char *outdir;
static int nclients, nmsg;

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "tcp_echo[%d]: ", (int)getpid());
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write: %s", strerror(errno));
		buf += n;
		len -= (size_t)n;
	}
}

/* Read exactly len bytes; returns the count read before end of stream. */
static size_t read_all(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("read: %s", strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return got;
}

static void nap(long usec)
{
	struct timespec ts = { 0, usec * 1000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void message(char *buf, int id, int seq)
{
	int n = snprintf(buf, MSG, "client %d message %06d ", id, seq);

	memset(buf + n, 'a' + (seq + id) % 26, MSG - 1 - (size_t)n);
	buf[MSG - 1] = '\n';
}

static void server(int lfd)
{
	struct pollfd pfd[MAXCLIENTS + 1];
	long bytes[MAXCLIENTS + 1] = { 0 };
	int nconn = 0, nopen = 0;
	char buf[4096];

	pfd[0].fd = lfd;
	pfd[0].events = POLLIN;
	while (nconn < nclients || nopen > 0) {
		if (poll(pfd, (nfds_t)nconn + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (nconn < nclients && (pfd[0].revents & POLLIN)) {
			int c = accept(lfd, NULL, NULL);

			if (c < 0 && errno != EINTR)
				die("accept: %s", strerror(errno));
			if (c >= 0) {
				nconn++;
				nopen++;
				pfd[nconn].fd = c;
				pfd[nconn].events = POLLIN;
				pfd[nconn].revents = 0;
				if (nconn == nclients)
					pfd[0].fd = -1; /* accept no more */
			}
		}
		for (int i = 1; i <= nconn; i++) {
			ssize_t n;

			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			n = read(pfd[i].fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				die("server read: %s", strerror(errno));
			if (n == 0) {
				close(pfd[i].fd);
				pfd[i].fd = -1;
				nopen--;
				continue;
			}
			write_all(pfd[i].fd, buf, (size_t)n);
			bytes[i] += n;
		}
	}
	for (int i = 1; i <= nconn; i++)
		if (bytes[i] != (long)nmsg * MSG)
			die("server: connection %d echoed %ld bytes, want %ld", i, bytes[i],
			    (long)nmsg * MSG);
	exit(0);
}

static void progress(int fd, int n)
{
	char s[16];
	int len = snprintf(s, sizeof(s), "%8d\n", n);

	if (pwrite(fd, s, (size_t)len, 0) != len)
		die("progress: %s", strerror(errno));
}

static void client(int id, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char path[4096], want[MSG], got[MSG], tail;
	int s, pfd, checked = 0;

	snprintf(path, sizeof(path), "%s/progress.%d", outdir, id);
	pfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (pfd < 0)
		die("%s: %s", path, strerror(errno));
	progress(pfd, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("client %d: connect: %s", id, strerror(errno));
	for (int seq = 0; seq < nmsg + WINDOW; seq++) {
		if (seq < nmsg) {
			message(want, id, seq);
			write_all(s, want, MSG);
		}
		if (seq >= WINDOW) { /* the echo of seq - WINDOW */
			size_t n = read_all(s, got, MSG);

			message(want, id, seq - WINDOW);
			if (n != MSG)
				die("client %d: end of stream after %d echoes", id, checked);
			if (memcmp(got, want, MSG) != 0)
				die("client %d: echo %d is '%.*s', want '%.*s'", id, seq - WINDOW,
				    MSG - 1, got, MSG - 1, want);
			if (++checked % 20 == 0)
				progress(pfd, checked);
		}
		if (seq < nmsg)
			nap(1500);
	}
	progress(pfd, checked);
	if (shutdown(s, SHUT_WR) < 0)
		die("client %d: shutdown: %s", id, strerror(errno));
	if (read_all(s, &tail, 1) != 0)
		die("client %d: more data after %d echoes", id, checked);
	close(s);
	exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	pid_t kids[MAXCLIENTS + 1];
	char path[4096], verdict[256] = "";
	int lfd, port, bad = 0;
	FILE *f;

	if (argc != 4)
		die("usage: tcp_echo OUTDIR NCLIENTS NMSG");
	outdir = argv[1];
	nclients = atoi(argv[2]);
	nmsg = atoi(argv[3]);
	if (nclients < 1 || nclients > MAXCLIENTS || nmsg < 1)
		die("bad arguments");
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		die("listen on 127.0.0.1: %s", strerror(errno));
	port = ntohs(a.sin_port);
	fflush(NULL);
	kids[0] = fork();
	if (kids[0] < 0)
		die("fork: %s", strerror(errno));
	if (kids[0] == 0)
		server(lfd);
	close(lfd);
	for (int i = 1; i <= nclients; i++) {
		kids[i] = fork();
		if (kids[i] < 0)
			die("fork: %s", strerror(errno));
		if (kids[i] == 0)
			client(i, port);
	}
	for (int i = 0; i <= nclients; i++) {
		int st;
		pid_t p;

		while ((p = waitpid(kids[i], &st, 0)) < 0 && errno == EINTR)
			;
		if (p != kids[i]) {
			snprintf(verdict, sizeof(verdict), "FAIL: waitpid(%d): %s", (int)kids[i],
				 p < 0 ? strerror(errno) : "another pid");
			bad++;
		} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			snprintf(verdict, sizeof(verdict), "FAIL: %s %d %s %d",
				 i ? "client" : "server", i,
				 WIFEXITED(st) ? "exited" : "killed by signal",
				 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
			bad++;
		}
	}
	if (!bad)
		snprintf(verdict, sizeof(verdict), "clients=%d messages=%d bytes=%ld errors=0",
			 nclients, nmsg, (long)nclients * nmsg * MSG);
	snprintf(path, sizeof(path), "%s/result", outdir);
	f = fopen(path, "w");
	if (!f || fprintf(f, "%s\n", verdict) < 0 || fclose(f) != 0)
		die("%s: %s", path, strerror(errno));
	printf("%s\n", verdict);
	return bad ? 1 : 0;
}
