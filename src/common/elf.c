/* SPDX-License-Identifier: MIT */
/* elf_is_static: used by `cocoon launch` and by the runtime's exec wrappers. */
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/elf.h"

static int open_prog(const char *prog)
{
	char path[PATH_MAX];
	int fd = -1;

	if (strchr(prog, '/'))
		return open(prog, O_RDONLY | O_CLOEXEC);
	for (const char *p = getenv("PATH"); p && *p && fd < 0;) {
		size_t n = strcspn(p, ":");
		snprintf(path, sizeof(path), "%.*s/%s", (int)n, p, prog);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		p += n + (p[n] == ':');
	}
	return fd;
}

int elf_is_static(const char *prog)
{
	Elf64_Ehdr eh;
	int fd = open_prog(prog), interp = 0, elf = 0;

	if (fd < 0)
		return 0;
	if (read(fd, &eh, sizeof(eh)) == sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && (eh.e_type == ET_EXEC || eh.e_type == ET_DYN)) {
		elf = 1;
		for (int i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    sizeof(ph))
				break;
			interp |= ph.p_type == PT_INTERP;
		}
	}
	close(fd);
	return elf && !interp;
}
