/* SPDX-License-Identifier: MIT */
/* Telling a statically linked program (which cannot load the runtime). */
#ifndef COCOON_ELF_H
#define COCOON_ELF_H

/* 1 when prog (a path, or a name looked up in $PATH) is a 64-bit ELF
 * executable without an interpreter, else 0. */
int elf_is_static(const char *prog);

#endif
