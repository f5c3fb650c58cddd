/* SPDX-License-Identifier: MIT */
/*
 * Saving and resuming a thread's callee-saved context (x86-64), and cloning
 * a thread straight into a saved context.  Layout matches struct rt_ctx:
 * rbx, rbp, r12, r13, r14, r15, rsp, rip at offsets 0..56.
 */
	.text

/* int rt_ctx_save(struct rt_ctx *c): returns 0 now, 1 (or ret) when resumed. */
	.globl rt_ctx_save
	.hidden rt_ctx_save
	.type rt_ctx_save, @function
rt_ctx_save:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rdx
	movq %rdx, 48(%rdi)
	movq (%rsp), %rdx
	movq %rdx, 56(%rdi)
	xorl %eax, %eax
	ret
	.size rt_ctx_save, .-rt_ctx_save

/* void rt_ctx_restore(const struct rt_ctx *c, int ret): uses no stack. */
	.globl rt_ctx_restore
	.hidden rt_ctx_restore
	.type rt_ctx_restore, @function
rt_ctx_restore:
	movl %esi, %eax
	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	jmpq *56(%rdi)
	.size rt_ctx_restore, .-rt_ctx_restore

/*
 * long rt_clone_ctx(flags, ctx, tls, ptid, ctid)
 *                   rdi    rsi  rdx  rcx   r8
 * The child gets a stack pointer just below the saved one and at once
 * restores ctx with return value 1, touching no memory on the way.
 */
	.globl rt_clone_ctx
	.hidden rt_clone_ctx
	.type rt_clone_ctx, @function
rt_clone_ctx:
	pushq %r12
	movq %rsi, %r12          /* ctx survives the syscall in the child */
	movq %rdx, %r9           /* tls */
	movq 48(%rsi), %rsi      /* newsp = ctx->rsp - 256 */
	subq $256, %rsi
	movq %rcx, %rdx          /* parent_tid */
	movq %r8, %r10           /* child_tid */
	movq %r9, %r8            /* tls */
	movl $56, %eax           /* SYS_clone */
	syscall
	testq %rax, %rax
	jz 1f
	popq %r12
	ret
1:
	movq %r12, %rdi
	movl $1, %esi
	jmp rt_ctx_restore
	.size rt_clone_ctx, .-rt_clone_ctx

	.section .note.GNU-stack,"",@progbits
