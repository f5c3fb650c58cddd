/* SPDX-License-Identifier: MIT */
/*
 * The restorer's tiny libc: the mem* functions gcc may emit calls to, and
 * message lines for fd 2.  No libc, no allocation; a line is built in a
 * static buffer and written with one write() so it never interleaves.
 */
#include "restore/rst.h"
#include "restore/sys.h"

/* Keep gcc from turning these loops back into calls to themselves
 * (clang already leaves functions named like these alone). */
#ifdef __clang__
#define NO_LIBCALL
#else
#define NO_LIBCALL __attribute__((optimize("no-tree-loop-distribute-patterns")))
#endif

NO_LIBCALL void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

NO_LIBCALL void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

NO_LIBCALL void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

NO_LIBCALL int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

NO_LIBCALL size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

static char line[1024];
static size_t line_len;

void rst_put(const char *s)
{
	while (*s && line_len < sizeof(line) - 1)
		line[line_len++] = *s++;
}

void rst_put_hex(uint64_t v)
{
	char buf[19], *p = buf + sizeof(buf);

	*--p = 0;
	do
		*--p = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	*--p = 'x';
	*--p = '0';
	rst_put(p);
}

static void put_dec(uint64_t v)
{
	char buf[21], *p = buf + sizeof(buf);

	*--p = 0;
	do
		*--p = '0' + v % 10;
	while (v /= 10);
	rst_put(p);
}

/* The errors the restorer can meet; the rest are printed by number. */
void rst_put_err(long err)
{
	static const struct {
		int no;
		const char *s;
	} tab[] = {
		{ EPERM, "Operation not permitted" }, { ENOENT, "No such file or directory" },
		{ EIO, "Input/output error" },        { EBADF, "Bad file descriptor" },
		{ ENOMEM, "Cannot allocate memory" }, { EACCES, "Permission denied" },
		{ EFAULT, "Bad address" },            { EEXIST, "File exists" },
		{ EISDIR, "Is a directory" },         { EINVAL, "Invalid argument" },
		{ ENFILE, "Too many open files in system" },
		{ EMFILE, "Too many open files" },    { ENODEV, "No such device" },
		{ ENAMETOOLONG, "File name too long" },
		{ ETXTBSY, "Text file busy" },        { EOVERFLOW, "Value too large" },
	};

	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		if (tab[i].no == -err) {
			rst_put(tab[i].s);
			return;
		}
	}
	rst_put("error ");
	put_dec((uint64_t)-err);
}

void rst_begin(void)
{
	line_len = 0;
	rst_put("cocoon: restore: ");
	rst_put(rst_args.image_path[0] ? rst_args.image_path : "?");
	rst_put(": ");
}

void rst_end(void)
{
	line[line_len++] = '\n';
	sys_write(2, line, line_len);
	line_len = 0;
}

void rst_fail(void)
{
	rst_end();
	sys_exit_group(1);
}

/* One line "cocoon: restore: IMAGE: what[: strerror(err)]", exit 1. */
void rst_die(const char *what, long err)
{
	rst_begin();
	rst_put(what);
	if (err < 0) {
		rst_put(": ");
		rst_put_err(err);
	}
	rst_fail();
}
