/* SPDX-License-Identifier: MIT */
/*
 * The forked writer (cocoon checkpoint --forked, cocoon launch --forked).
 * With every thread stopped, the image writer saves the memory the program
 * shares with others (not copied on write), then splits: the checkpoint
 * thread clones a bare copy of the process (no libc fork handlers, no exit
 * signal, so the program's wait() never sees it), which writes the rest
 * from its copy-on-write view while the program runs again.  The
 * generation is complete once the copy reports its image durable.
 *
 * The copy reports on a pipe: "K" and the image path, or "E" and why it
 * failed.  It dies with the checkpoint thread that made it
 * (PR_SET_PDEATHSIG), so a killed program leaves no writer behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/rt.h"
#include "runtime/sys.h"

static int writer_pid = -1, report_fd = -1;

/* copy_fd: set in the copy only, to the write end of its report pipe.  It
 * lives on the caller's stack, not in static memory: the copy writes
 * static memory into the image, and a restarted program is no copy. */
long rt_writer_split(int *copy_fd)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	long pid = rt_sys5(SYS_clone, 0, 0, NULL, NULL, 0);
	if (pid == 0) {
		close(p[0]);
		*copy_fd = p[1];
		rt_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
		if (rt_sys0(SYS_getppid) != rt.real_pid)
			rt_sys1(SYS_exit_group, 1); /* the program is gone already */
		return 0;
	}
	close(p[1]);
	if (pid < 0) {
		close(p[0]);
		cocoon_error("cannot fork the image writer: %s", strerror((int)-pid));
		return pid;
	}
	writer_pid = (int)pid;
	report_fd = p[0];
	return pid;
}

int rt_writer_fork(uint64_t gen, char *path, size_t cap)
{
	int copy_fd = -1;
	int err = rt_image_write(gen, path, cap, &copy_fd);

	if (copy_fd < 0)
		return err; /* the program */
	const char *msg = err ? (rt_last_error()[0] ? rt_last_error() : strerror(-err)) : path;
	if (write(copy_fd, err ? "E" : "K", 1) != 1 || write(copy_fd, msg, strlen(msg)) < 0)
		err = -EPIPE;
	rt_sys1(SYS_exit_group, err ? 1 : 0);
	__builtin_unreachable();
}

static void reap(void)
{
	int status;

	if (writer_pid > 0)
		while (rt_sys4(SYS_wait4, writer_pid, &status, __WCLONE, NULL) == -EINTR)
			;
	if (report_fd >= 0)
		close(report_fd);
	writer_pid = report_fd = -1;
}

int rt_writer_wait(char *path, size_t cap)
{
	char report[4400];
	size_t got = 0;

	while (got + 1 < sizeof(report)) {
		ssize_t n = read(report_fd, report + got, sizeof(report) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	report[got] = 0;
	reap();
	if (got && report[0] == 'K') {
		snprintf(path, cap, "%s", report + 1);
		return rt_stream_finish(); /* streamed: safe once its command says so */
	}
	rt_stream_abandon();
	if (got && report[0] == 'E')
		cocoon_error("%s", report + 1);
	else
		cocoon_error("the forked image writer died");
	return -EIO;
}

void rt_writer_abandon(void)
{
	if (writer_pid > 0)
		rt_sys2(SYS_kill, writer_pid, SIGKILL);
	reap();
	rt_stream_abandon();
}
