/* SPDX-License-Identifier: MIT */
/*
 * Raw syscalls for the runtime's paths that must not touch libc state
 * (signal handler, restart entry).  Return -errno.  x86-64 only.
 */
#ifndef RT_SYS_H
#define RT_SYS_H

#include <sys/syscall.h>

static inline long rt_syscall6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define rt_sys0(n) rt_syscall6(n, 0, 0, 0, 0, 0, 0)
#define rt_sys1(n, a) rt_syscall6(n, (long)(a), 0, 0, 0, 0, 0)
#define rt_sys2(n, a, b) rt_syscall6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define rt_sys3(n, a, b, c) rt_syscall6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define rt_sys4(n, a, b, c, d) rt_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define rt_sys5(n, a, b, c, d, e) \
	rt_syscall6(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static inline int rt_gettid(void) { return (int)rt_sys0(SYS_gettid); }
static inline int rt_getpid(void) { return (int)rt_sys0(SYS_getpid); }

#endif
