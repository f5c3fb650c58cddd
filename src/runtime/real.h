/* SPDX-License-Identifier: MIT */
/*
 * The next definition of every libc function Cocoon wraps, resolved once
 * with dlsym(RTLD_NEXT) at load.  One list, so none is forgotten: REAL_LIST
 * expands to the declarations here and to the resolution in real.c.
 */
#ifndef RT_REAL_H
#define RT_REAL_H

#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/wait.h>
#include <time.h>

#define REAL_LIST(X)                                                                        \
	X(pid_t, fork, (void))                                                              \
	X(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *)) \
	X(int, pclose, (FILE *))                                                            \
	X(int, execve, (const char *, char *const[], char *const[]))                        \
	X(int, execv, (const char *, char *const[]))                                        \
	X(int, execvp, (const char *, char *const[]))                                       \
	X(int, execvpe, (const char *, char *const[], char *const[]))                       \
	X(int, inotify_add_watch, (int, const char *, uint32_t))                            \
	X(int, open, (const char *, int, ...))                                              \
	X(int, open64, (const char *, int, ...))                                            \
	X(int, openat, (int, const char *, int, ...))                                       \
	X(int, openat64, (int, const char *, int, ...))                                     \
	X(FILE *, fopen, (const char *, const char *))                                      \
	X(FILE *, fopen64, (const char *, const char *))                                    \
	X(DIR *, opendir, (const char *))                                                   \
	X(ssize_t, readlink, (const char *, char *, size_t))                                \
	X(int, access, (const char *, int))                                                 \
	X(int, stat, (const char *, struct stat *))                                         \
	X(int, lstat, (const char *, struct stat *))                                        \
	X(pid_t, getpid, (void))                                                            \
	X(pid_t, getppid, (void))                                                           \
	X(pid_t, gettid, (void))                                                            \
	X(int, kill, (pid_t, int))                                                          \
	X(int, tgkill, (pid_t, pid_t, int))                                                 \
	X(long, syscall, (long, ...))                                                       \
	X(int, sigaction, (int, const struct sigaction *, struct sigaction *))              \
	X(int, sigprocmask, (int, const sigset_t *, sigset_t *))                            \
	X(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))                        \
	X(int, nanosleep, (const struct timespec *, struct timespec *))                     \
	X(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *)) \
	X(int, poll, (struct pollfd *, nfds_t, int))                                        \
	X(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))               \
	X(int, pause, (void))                                                               \
	X(int, sigsuspend, (const sigset_t *))                                              \
	X(pid_t, wait, (int *))                                                             \
	X(pid_t, waitpid, (pid_t, int *, int))                                              \
	X(pid_t, wait3, (int *, int, struct rusage *))                                      \
	X(pid_t, wait4, (pid_t, int *, int, struct rusage *))                               \
	X(int, waitid, (idtype_t, id_t, siginfo_t *, int))                                  \
	X(pid_t, getpgid, (pid_t))                                                          \
	X(pid_t, getpgrp, (void))                                                           \
	X(pid_t, getsid, (pid_t))                                                           \
	X(int, setpgid, (pid_t, pid_t))                                                     \
	X(pid_t, setsid, (void))                                                            \
	X(pid_t, tcgetpgrp, (int))                                                          \
	X(int, tcsetpgrp, (int, pid_t))                                                     \
	X(int, killpg, (pid_t, int))                                                        \
	X(int, sigqueue, (pid_t, int, const union sigval))                                  \
	X(int, fcntl, (int, int, ...))                                                      \
	X(int, pthread_mutex_lock, (pthread_mutex_t *))                                     \
	X(int, pthread_mutex_trylock, (pthread_mutex_t *))                                  \
	X(int, pthread_mutex_timedlock, (pthread_mutex_t *, const struct timespec *))       \
	X(int, pthread_mutex_clocklock, (pthread_mutex_t *, clockid_t, const struct timespec *)) \
	X(int, pthread_mutex_unlock, (pthread_mutex_t *))                                   \
	X(int, pthread_cond_wait, (pthread_cond_t *, pthread_mutex_t *))                    \
	X(int, pthread_cond_timedwait, (pthread_cond_t *, pthread_mutex_t *, const struct timespec *)) \
	X(int, pthread_cond_clockwait,                                                      \
	  (pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *))

#define REAL_DECLARE(ret, name, args) extern ret(*real_##name) args __attribute__((visibility("hidden")));
REAL_LIST(REAL_DECLARE)
#undef REAL_DECLARE

void rt_real_resolve(void) __attribute__((visibility("hidden")));

/* In a wrapper, before the first use of real_NAME: a call may come before
 * the runtime's constructor ran (from another library's constructor). */
#define RESOLVED(name)                 \
	do {                           \
		if (!real_##name)      \
			rt_real_resolve(); \
	} while (0)

#endif
