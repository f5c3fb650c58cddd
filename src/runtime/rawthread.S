/* SPDX-License-Identifier: MIT */
/*
 * long rt_raw_thread(unsigned long flags, void *stack_top, int *ctid,
 *                    void (*fn)(void *), void *arg)
 *
 * A thread without libc: clone(flags, stack_top, NULL, ctid, 0), and the
 * new thread calls fn(arg) on stack_top, then exits (the thread alone).
 * It shares the caller's TLS register (no CLONE_SETTLS): fn must not use
 * libc state that lives there.  Returns the new tid, or -errno.
 */
	.text
	.globl rt_raw_thread
	.hidden rt_raw_thread
	.type rt_raw_thread, @function
rt_raw_thread:
	and	$-16, %rsi
	sub	$16, %rsi
	mov	%rcx, 0(%rsi)	/* fn and arg, for the new thread to pop */
	mov	%r8, 8(%rsi)
	mov	%rdx, %r10	/* ctid */
	xor	%edx, %edx	/* ptid */
	xor	%r8d, %r8d	/* tls */
	mov	$56, %eax	/* SYS_clone */
	syscall
	test	%rax, %rax
	jnz	1f
	/* the new thread, on its own stack */
	xor	%ebp, %ebp
	pop	%rax
	pop	%rdi
	and	$-16, %rsp
	call	*%rax
	mov	$60, %eax	/* SYS_exit: this thread only */
	xor	%edi, %edi
	syscall
	hlt
1:	ret
	.size rt_raw_thread, .-rt_raw_thread
	.section .note.GNU-stack,"",@progbits
