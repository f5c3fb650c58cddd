/* SPDX-License-Identifier: MIT */
/*
 * Images streamed to a command (cocoon launch --image-stream CMD): each
 * image goes to the standard input of `/bin/sh -c CMD` instead of a file.
 * The command gets COCOON_IMAGE (the image's name under the checkpoint
 * directory, gen-G/NAME-VPID.img), COCOON_GENERATION and COCOON_CKPT_DIR
 * in its environment, /dev/null as stdout and umask 077.  The image counts as
 * durable when the command exits 0.  A pipe cannot seek, so the writer
 * sends a placeholder header first and the real one last (see
 * docs/image-format.md, "Streamed images").
 *
 * The command is started from the checkpoint thread while program threads
 * are stopped and may hold libc's locks, so only raw system calls: a
 * "middle" clone that shares our memory and has no exit signal (so the
 * program's wait() never sees it, nor gets SIGCHLD) starts the command
 * with a vfork-like clone, waits for it and exits with its status.  The
 * middle is needed because an exec turns a child into an ordinary one
 * that the program could reap.  Both die with the checkpoint thread
 * (PR_SET_PDEATHSIG), so a killed program leaves no command running on a
 * partial image.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/rt.h"
#include "runtime/sys.h"

#define SPAWN_STACK (64u << 10)
#define PIPE_BYTES (1 << 20) /* the most an unprivileged user may ask for */

extern char **environ;

struct spawn {
	int in_fd, null_fd;
	char *argv[4];
	char **envp;
	char *exec_stack; /* top of the command's stack until its exec */
	volatile int cmd_pid; /* set by the middle */
};

static int middle_pid = -1;
static struct spawn *spawned;

/* Dies with the thread that made it (SIGKILL). */
static void die_with_parent(long parent)
{
	rt_sys2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
	if (rt_sys0(SYS_getppid) != parent)
		rt_sys1(SYS_exit, 127);
}

/* The command, until the exec: on its own stack, in our memory, with the
 * middle's descriptors. */
static void exec_cmd(void *arg)
{
	struct spawn *s = arg;
	uint64_t none = 0;

	die_with_parent(s->cmd_pid);
	rt_sys1(SYS_umask, 077); /* what it stores is private, like image files */
	rt_sys4(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, 8);
	rt_sys3(SYS_execve, "/bin/sh", s->argv, s->envp);
	rt_sys1(SYS_exit, 127);
}

/* The middle: every signal stays blocked (the program's handlers must never
 * run here); it only starts the command and passes on how it ended. */
static void middle(void *arg)
{
	struct spawn *s = arg;
	int status = 0;

	die_with_parent(rt.real_pid);
	/* A copy of the program's descriptors: keep only the command's
	 * stdin, stdout and stderr (the write end would keep it waiting). */
	rt_sys3(SYS_dup3, s->in_fd, 0, 0);
	rt_sys3(SYS_dup3, s->null_fd, 1, 0);
	rt_sys3(SYS_close_range, 3, ~0u, 0);
	s->cmd_pid = (int)rt_sys0(SYS_getpid); /* the command's parent, for a moment */
	long pid = rt_raw_thread(CLONE_VM | CLONE_VFORK, s->exec_stack, NULL, exec_cmd, s);
	if (pid < 0)
		rt_sys1(SYS_exit, 127);
	s->cmd_pid = (int)pid;
	while (rt_sys4(SYS_wait4, pid, &status, __WALL, NULL) == -EINTR)
		;
	rt_sys1(SYS_exit, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* The program's environment without the runtime's variables, plus what
 * the command needs to know. */
static char **command_env(const char *image, uint64_t gen)
{
	size_t n = 0, used = 0;
	char **env, *add[3];

	for (char **e = environ; e && *e; e++)
		n++;
	env = rt_alloc(sizeof(*env) * (n + 4));
	for (int i = 0; i < 3; i++)
		add[i] = rt_alloc(strlen(rt.ckpt_dir) + strlen(image) + 64);
	if (!env || !add[0] || !add[1] || !add[2])
		return NULL;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, "LD_PRELOAD=", 11) != 0 && strncmp(*e, "COCOON_", 7) != 0)
			env[used++] = *e;
	sprintf(add[0], "COCOON_IMAGE=%s", image);
	sprintf(add[1], "COCOON_GENERATION=%llu", (unsigned long long)gen);
	sprintf(add[2], "COCOON_CKPT_DIR=%s", rt.ckpt_dir);
	for (int i = 0; i < 3; i++)
		env[used++] = add[i];
	env[used] = NULL;
	return env;
}

int rt_stream_open(const char *image, uint64_t gen)
{
	struct spawn *s = rt_alloc(sizeof(*s));
	char *stacks = rt_alloc(2 * SPAWN_STACK);
	int p[2], err;

	if (!s || !stacks || !(s->envp = command_env(image, gen)))
		return -ENOMEM;
	if (pipe2(p, O_CLOEXEC) != 0)
		return -errno;
	fcntl(p[1], F_SETPIPE_SZ, PIPE_BYTES); /* fewer switches; fine if refused */
	/* Both above 2, so that dup3 onto 0 and 1 cannot clobber them. */
	s->in_fd = fcntl(p[0], F_DUPFD_CLOEXEC, 3);
	s->null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (s->null_fd >= 0 && s->null_fd < 3) {
		int high = fcntl(s->null_fd, F_DUPFD_CLOEXEC, 3);
		close(s->null_fd);
		s->null_fd = high;
	}
	close(p[0]);
	s->argv[0] = "sh";
	s->argv[1] = "-c";
	s->argv[2] = rt.stream_cmd;
	s->argv[3] = NULL;
	s->exec_stack = stacks + 2 * SPAWN_STACK;
	s->cmd_pid = 0;
	long pid = s->in_fd < 0 || s->null_fd < 0 ? -EMFILE :
		   rt_raw_thread(CLONE_VM, stacks + SPAWN_STACK, NULL, middle, s);
	err = pid < 0 ? (int)pid : 0;
	/* The middle's clone of our descriptors is its own: ours can go. */
	if (s->in_fd >= 0)
		close(s->in_fd);
	if (s->null_fd >= 0)
		close(s->null_fd);
	if (err) {
		close(p[1]);
		cocoon_error("cannot start the image stream command: %s", strerror(-err));
		return err;
	}
	middle_pid = (int)pid;
	spawned = s;
	return p[1];
}

/* A write into a pipe whose reader is gone left SIGPIPE pending on this
 * thread (it blocks every signal): take it, so it never reaches the program. */
static void drop_sigpipe(void)
{
	uint64_t set = 1ull << (SIGPIPE - 1);
	struct timespec zero = { 0, 0 };

	while (rt_sys4(SYS_rt_sigtimedwait, &set, NULL, &zero, 8) == SIGPIPE)
		;
}

static int reap(void)
{
	int status = 0;

	while (rt_sys4(SYS_wait4, middle_pid, &status, __WCLONE, NULL) == -EINTR)
		;
	middle_pid = -1;
	spawned = NULL;
	drop_sigpipe();
	return status;
}

int rt_stream_finish(void)
{
	if (middle_pid < 0)
		return 0;
	int status = reap();
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		cocoon_error("image stream command exited %d: %s", WEXITSTATUS(status),
			     rt.stream_cmd);
	else
		cocoon_error("image stream command killed by signal %d: %s", WTERMSIG(status),
			     rt.stream_cmd);
	return -EIO;
}

void rt_stream_abandon(void)
{
	if (middle_pid < 0)
		return;
	if (spawned->cmd_pid > 0)
		rt_sys2(SYS_kill, spawned->cmd_pid, SIGKILL);
	rt_sys2(SYS_kill, middle_pid, SIGKILL);
	reap();
}
