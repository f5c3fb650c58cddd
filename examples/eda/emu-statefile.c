/* SPDX-License-Identifier: MIT */
/*
 * The emulator's state file: save atomically, load only after validation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu-statefile.h"

#define STATEFILE_MAGIC "EMUSTATE"
#define STATEFILE_VERSION 1

struct statefile_header {
	char magic[8];
	uint32_t version;
	uint32_t size;  /* bytes of state after the header */
	uint64_t sum;   /* FNV-1a of those bytes */
};

static uint64_t fnv1a(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ull;

	while (len--)
		h = (h ^ *p++) * 0x100000001b3ull;
	return h;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int statefile_save(const char *path, const struct design *d, char *why, size_t cap)
{
	struct statefile_header h = { .version = STATEFILE_VERSION, .size = sizeof(*d) };
	char tmp[4200];
	int fd;

	memcpy(h.magic, STATEFILE_MAGIC, sizeof(h.magic));
	h.sum = fnv1a(d, sizeof(*d));
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(why, cap, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(why, cap, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (write_all(fd, &h, sizeof(h)) || write_all(fd, d, sizeof(*d)) || fsync(fd)) {
		snprintf(why, cap, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(fd);
	if (rename(tmp, path) < 0) {
		snprintf(why, cap, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int statefile_load(const char *path, struct design *d, char *why, size_t cap)
{
	static struct design in; /* 64 KiB: not on the stack */
	struct statefile_header h;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, cap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(why, cap, "%s: not a regular file", path);
		goto fail;
	}
	n = pread(fd, &h, sizeof(h), 0);
	if (n != (ssize_t)sizeof(h) || memcmp(h.magic, STATEFILE_MAGIC, sizeof(h.magic)) != 0) {
		snprintf(why, cap, "%s: not an emulator state file", path);
		goto fail;
	}
	if (h.version != STATEFILE_VERSION) {
		snprintf(why, cap, "%s: state file version %u, this emulator reads %u", path,
			 h.version, STATEFILE_VERSION);
		goto fail;
	}
	if (h.size != sizeof(in) || st.st_size != (off_t)(sizeof(h) + sizeof(in))) {
		snprintf(why, cap, "%s: wrong size (%lld bytes, want %zu): truncated or another design",
			 path, (long long)st.st_size, sizeof(h) + sizeof(in));
		goto fail;
	}
	n = pread(fd, &in, sizeof(in), sizeof(h));
	if (n != (ssize_t)sizeof(in)) {
		snprintf(why, cap, "%s: cannot read the state: %s", path,
			 n < 0 ? strerror(errno) : "short read");
		goto fail;
	}
	if (fnv1a(&in, sizeof(in)) != h.sum) {
		snprintf(why, cap, "%s: checksum mismatch: the file is damaged", path);
		goto fail;
	}
	close(fd);
	*d = in;
	return 0;
fail:
	close(fd);
	return -1;
}
