/* SPDX-License-Identifier: MIT */
/* The fd plugin's image section ("fd"): one record per open fd. */
#ifndef FD_FD_H
#define FD_FD_H

#include <stdint.h>
#include <sys/ioctl.h>
#include <termios.h>

#define FD_SECTION "fd"
#define FD_MAGIC 0x46444331u /* "FDC1" */

enum fd_kind {
	FD_SAME = 1,    /* same open file description as fd same_as */
	FD_STD = 2,     /* outside object: re-attach to the restart command's fd std */
	FD_REG = 3,     /* regular file, reopened by path at pos */
	FD_DIR = 4,     /* directory, reopened by path */
	FD_DEV = 5,     /* character device, reopened by path */
	FD_DELETED = 6, /* deleted regular file: content saved */
	FD_MEMFD = 7,   /* memfd: content saved */
	FD_BROKEN = 9,  /* (while scanning) a pipe end, before it becomes FD_XPIPE */
	FD_XPIPE = 10,  /* a pipe end: `cocoon restart` makes each pipe once for all
			 * its holders (struct rst_pipe); a read end carries the bytes
			 * that were in it (peeked with tee, not consumed).  An end
			 * whose peer was outside sees EOF or EPIPE */
	FD_EVENTFD = 11, /* anon.c: recreated from struct fd_anon */
	FD_TIMERFD = 12,
	FD_SIGNALFD = 13,
	FD_EPOLL = 14,  /* interest list: fd_anon.n struct fd_epoll_entry follow */
	FD_SOCK = 15,   /* sock.c: the restart command recreates it from struct
			 * fd_sock (pipe_id = FD_SOCK_ID(inode)) */
	FD_PTY_MASTER = 16, /* pty.c: the restart command makes a new pty from
			     * struct fd_pty (pipe_id = FD_PTY_ID(index)) */
	FD_INOTIFY = 18, /* inotify.c: watches re-added by path, same wds */
	FD_MQUEUE = 19, /* mqueue.c: POSIX message queue, by name; the restart
			 * command puts back its messages (struct fd_mqueue) */
	FD_EXTERNAL = 20, /* marked by a plugin (cocoon_fd_external), or a file
			   * under the "leave" policy: /dev/null at restart */
	FD_SAVED = 21,  /* regular file under the "save" policy: contents saved,
			 * written back to its path at restart, then reopened */
	FD_FIFO = 17,   /* named pipe, reopened by path; the restart command holds
			 * it open meanwhile and puts back the bytes a reader saw */
};

/* Ids in the restart table: pipes by inode, sockets by inode with the top
 * bit, pseudo-terminals by index with the next bit.  A pty slave fd (kept
 * as FD_STD or FD_DEV) carries its FD_PTY_ID in pipe_id: when the master is
 * in the computation too, the restart command's new slave replaces it. */
#define FD_SOCK_ID(ino) ((uint64_t)(ino) | (1ull << 63))
#define FD_PTY_ID(index) ((uint64_t)(index) | (1ull << 62))

static inline int fd_id_is_pty(uint64_t id)
{
	return (id >> 62) == 1;
}

/* A regular file open in several processes at the same offset with the same
 * flags is taken as one description they inherited (a shell's stdout):
 * `cocoon restart` opens it once for all of them, so they share the offset
 * again.  The id hashes what identifies it, tagged with both top bits. */
static inline uint64_t fd_file_id(uint64_t dev, uint64_t ino, int64_t pos, int32_t flags)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	uint64_t parts[4] = { dev, ino, (uint64_t)pos, (uint64_t)(uint32_t)flags };

	for (int i = 0; i < 4; i++) {
		h = (h ^ parts[i]) * 0xff51afd7ed558ccdull;
		h ^= h >> 33;
	}
	return h | (3ull << 62);
}

static inline int fd_id_is_file(uint64_t id)
{
	return (id >> 62) == 3;
}

/* A POSIX message queue's blob: its attributes and messages, each a struct
 * fd_mq_msg and its bytes padded to 8. */
struct fd_mqueue {
	int64_t maxmsg, msgsize;
	uint32_t nmsg, mode;
	uint64_t len; /* bytes of messages that follow */
};

#define FD_MQ_UNLINKED 0x80000000u /* in fd_mqueue.mode: its name was removed */
#define FD_MQ_NONBLOCK 0x40000000u /* in fd_mqueue.mode: opened O_NONBLOCK */

struct fd_mq_msg {
	uint32_t prio, len;
};

struct fd_pty {
	struct termios termios;
	struct winsize winsize;
};

enum fd_sock_state {
	FD_SOCK_UNCONNECTED = 0,
	FD_SOCK_LISTENING = 1,
	FD_SOCK_CONNECTED = 2,
};

/* The blob of a socket: what it is, where it is, what waits in it.  Queued
 * data follows as nmsg records of (uint32_t length, bytes): one per
 * datagram, or one for a stream. */
struct fd_sock {
	uint64_t ino, peer_ino; /* unix: the peer end's inode (0: none, or outside) */
	int32_t family, type, protocol, state;
	int32_t backlog, sndbuf, rcvbuf;
	int32_t shutdown; /* directions shut down at this end: 1 receive, 2 send */
	int32_t reuseaddr, nodelay, keepalive, pad;
	uint32_t addr_len, peer_len;
	uint8_t addr[128], peer[128]; /* sockaddr of both ends */
	uint32_t nmsg;
	uint32_t pad2;
	uint64_t qlen; /* bytes of queued data records that follow */
};

/* The data blob of an anon-inode fd (anon.c). */
struct fd_anon {
	uint64_t count;     /* eventfd counter; timerfd expirations not yet read */
	uint64_t mask;      /* signalfd signal mask */
	int32_t clockid;    /* timerfd */
	uint32_t semaphore; /* eventfd EFD_SEMAPHORE */
	int64_t value_sec, value_nsec, interval_sec, interval_nsec; /* timerfd, relative */
	uint32_t n;         /* epoll entries that follow */
	uint32_t pad;
};

struct fd_epoll_entry {
	int32_t fd;
	uint32_t events;
	uint64_t data;
};

struct fd_rec {
	int32_t fd;
	uint32_t kind;
	int32_t flags;   /* F_GETFL */
	int32_t fdflags; /* F_GETFD */
	int64_t pos;
	int32_t same_as;
	int32_t std;
	uint64_t pipe_id;
	int32_t pipe_size;
	uint32_t path_off; /* into strings; 0 = none */
	uint64_t data_off, data_len; /* into data */
};

struct fd_section {
	uint32_t magic;
	uint32_t nrec;
	uint32_t umask;
	uint32_t strings_len;
	uint64_t data_len;
	int32_t ctty_pty;  /* index of the controlling terminal if it is a pty, else -1 */
	int32_t fg_vpgid;  /* its foreground process group (virtual), 0 if unknown */
	char cwd[4096];
	/* then: struct fd_rec[nrec], strings[strings_len], data[data_len] */
};

#endif
