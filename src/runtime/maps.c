/* SPDX-License-Identifier: MIT */
/*
 * Parsers for /proc/self/maps and /proc/self/stat.  Checkpoint thread only,
 * with user threads suspended: no malloc, no stdio; memory from rt_alloc.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "runtime/maps.h"
#include "runtime/rt.h"
#include "runtime/sys.h"

/* Read a whole /proc file into arena memory, NUL-terminated. */
static char *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 1 << 20, n = 0;
	char *buf;

	if (fd < 0)
		return NULL;
	for (;;) {
		buf = rt_alloc(cap);
		if (!buf)
			goto fail;
		n = 0;
		lseek(fd, 0, SEEK_SET);
		ssize_t r;
		while ((r = read(fd, buf + n, cap - n - 1)) > 0)
			n += (size_t)r;
		if (r < 0)
			goto fail;
		if (n < cap - 1)
			break;
		cap *= 4; /* did not fit: read it all again into a larger buffer */
	}
	close(fd);
	buf[n] = 0;
	*len = n;
	return buf;
fail:
	close(fd);
	return NULL;
}

static uint64_t hex(const char **p)
{
	uint64_t v = 0;

	for (;; (*p)++) {
		char c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uint64_t)(c - 'a' + 10);
		else
			return v;
	}
}

static void skip_field(const char **p)
{
	while (**p && **p != ' ' && **p != '\n')
		(*p)++;
	while (**p == ' ')
		(*p)++;
}

int rt_maps_read(struct rt_vma **out)
{
	size_t len;
	char *text = slurp("/proc/self/maps", &len);

	if (!text)
		return -ENOMEM;
	int lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	struct rt_vma *v = rt_alloc(sizeof(*v) * (size_t)(lines + 1));
	if (!v)
		return -ENOMEM;
	int n = 0;
	for (const char *p = text; *p; n++) {
		struct rt_vma *m = &v[n];
		memset(m, 0, sizeof(*m));
		m->start = hex(&p);
		p++;
		m->end = hex(&p);
		p++;
		m->prot = (p[0] == 'r' ? PROT_READ : 0) | (p[1] == 'w' ? PROT_WRITE : 0) |
			  (p[2] == 'x' ? PROT_EXEC : 0);
		m->shared = p[3] == 's';
		skip_field(&p);
		m->offset = hex(&p);
		while (*p == ' ')
			p++;
		skip_field(&p); /* dev */
		m->inode = strtoull(p, (char **)&p, 10);
		while (*p == ' ')
			p++;
		size_t k = 0;
		while (*p && *p != '\n') {
			if (k < sizeof(m->path) - 1)
				m->path[k++] = *p;
			p++;
		}
		m->path[k] = 0;
		if (*p == '\n')
			p++;
	}
	*out = v;
	return n;
}

int rt_mm_read(struct img_mm *mm)
{
	size_t len;
	char *text = slurp("/proc/self/stat", &len);
	uint64_t f[53] = { 0 };

	if (!text)
		return -ENOMEM;
	const char *p = strrchr(text, ')');
	if (!p)
		return -EINVAL;
	p += 2;
	/* Field 3 is the state letter; numeric fields follow. */
	skip_field(&p);
	for (int i = 4; i <= 52 && *p && *p != '\n'; i++) {
		f[i] = strtoull(p, (char **)&p, 10);
		while (*p == ' ')
			p++;
	}
	mm->start_code = f[26];
	mm->end_code = f[27];
	mm->start_stack = f[28];
	mm->start_data = f[45];
	mm->end_data = f[46];
	mm->start_brk = f[47];
	mm->arg_start = f[48];
	mm->arg_end = f[49];
	mm->env_start = f[50];
	mm->env_end = f[51];
	mm->brk = (uint64_t)rt_sys1(SYS_brk, 0);
	return 0;
}
