/* SPDX-License-Identifier: MIT */
/*
 * The computation's secret and the per-user file that lets other `cocoon`
 * commands of the same user find it:
 *     ${XDG_RUNTIME_DIR:-/tmp}/cocoon-<uid>/coord-<host>-<port>.secret
 * The directory must be ours and private (0700), the file is 0600.  Used by
 * the coordinator (writes) and the cocoon command (reads).
 */
#include "coordinator/coord.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

/* Refuse a directory someone else could plant files in or read from. */
static int check_private_dir(const char *path)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int coord_runtime_dir(char *out, size_t cap, bool create)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n, r;

	if (!base || base[0] != '/' || stat(base, &st) < 0 || !S_ISDIR(st.st_mode))
		base = "/tmp";
	n = snprintf(out, cap, "%s/cocoon-%u", base, (unsigned)getuid());
	if (n < 0 || (size_t)n >= cap)
		return -ENAMETOOLONG;
	r = check_private_dir(out);
	if (r == -ENOENT && create) {
		if (mkdir(out, 0700) < 0 && errno != EEXIST)
			return -errno;
		r = check_private_dir(out);
	}
	return r;
}

int coord_secret_path(const char *host, int port, char *out, size_t cap, bool create)
{
	char dir[4096];
	int r = coord_runtime_dir(dir, sizeof(dir), create);

	if (r)
		return r;
	int n = snprintf(out, cap, "%s/coord-%s-%d.secret", dir, host, port);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int coord_secret_generate(char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[16];
	size_t got = 0;

	if (cap < 2 * sizeof(raw) + 1)
		return -ENOSPC;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = 0;
	return 0;
}

int coord_secret_write(const char *path, const char *secret)
{
	char tmp[4200];
	size_t len = strlen(secret);
	int fd, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 || write(fd, secret, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1)
		r = errno ? -errno : -EIO;
	close(fd);
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

int coord_secret_read(const char *path, char *out, size_t cap)
{
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != getuid() || (st.st_mode & 077)) {
		close(fd);
		return -EPERM;
	}
	n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0)
		return -EBADMSG;
	out[n] = 0;
	out[strcspn(out, "\r\n")] = 0;
	return out[0] ? 0 : -EBADMSG;
}
