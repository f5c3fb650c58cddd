/* SPDX-License-Identifier: MIT */
/*
 * Raw x86-64 system calls for the restorer (no libc anywhere).
 *
 * Every wrapper returns the kernel's result: >= 0 on success, -errno on
 * failure.  This is the only file with syscall asm; an aarch64 port adds
 * its own __syscallN here and nothing else changes.
 */
#ifndef COCOON_RESTORE_SYS_H
#define COCOON_RESTORE_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>
#include <asm/prctl.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <linux/prctl.h>

static inline long __syscall1(long n, long a)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a) : "rcx", "r11", "memory");
	return ret;
}

static inline long __syscall3(long n, long a, long b, long c)
{
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long __syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline long sys_read(int fd, void *buf, size_t len)
{
	return __syscall3(__NR_read, fd, (long)buf, (long)len);
}

static inline long sys_pread(int fd, void *buf, size_t len, uint64_t off)
{
	return __syscall6(__NR_pread64, fd, (long)buf, (long)len, (long)off, 0, 0);
}

static inline long sys_write(int fd, const void *buf, size_t len)
{
	return __syscall3(__NR_write, fd, (long)buf, (long)len);
}

static inline long sys_open(const char *path, int flags)
{
	return __syscall3(__NR_open, (long)path, flags, 0);
}

static inline long sys_close(int fd)
{
	return __syscall1(__NR_close, fd);
}

static inline long sys_fstat(int fd, void *st)
{
	return __syscall3(__NR_fstat, fd, (long)st, 0);
}

/* Returns the address or -errno (user addresses are below 2^47). */
static inline long sys_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd,
			    uint64_t off)
{
	return __syscall6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, (long)off);
}

static inline long sys_shmat(int id, uint64_t addr, int flags)
{
	return __syscall3(__NR_shmat, id, (long)addr, flags);
}

static inline long sys_munmap(uint64_t addr, uint64_t len)
{
	return __syscall3(__NR_munmap, (long)addr, (long)len, 0);
}

static inline long sys_mprotect(uint64_t addr, uint64_t len, int prot)
{
	return __syscall3(__NR_mprotect, (long)addr, (long)len, prot);
}

static inline long sys_mremap(uint64_t old, uint64_t len, uint64_t new_len, int flags,
			      uint64_t new_addr)
{
	return __syscall6(__NR_mremap, (long)old, (long)len, (long)new_len, flags,
			  (long)new_addr, 0);
}

static inline long sys_prctl(int op, unsigned long a, unsigned long b, unsigned long c,
			     unsigned long d)
{
	return __syscall6(__NR_prctl, op, (long)a, (long)b, (long)c, (long)d, 0);
}

static inline long sys_arch_prctl(int code, unsigned long addr)
{
	return __syscall3(__NR_arch_prctl, code, (long)addr, 0);
}

static inline __attribute__((noreturn)) void sys_exit_group(int status)
{
	for (;;)
		__syscall1(__NR_exit_group, status);
}

#endif
