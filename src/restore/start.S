/* SPDX-License-Identifier: MIT */
/*
 * Restorer entry and exit, x86-64.
 *
 * _start: the kernel left argc, argv[], envp[], auxv on its stack.  We
 * switch to a static stack in .bss at once (the kernel's [stack] is
 * unmapped later) and call rst_main(initial_sp), which never returns.
 *
 * rst_jump(stack, entry, args): the last step.  Moves onto the restored
 * runtime's stack (aligned down to 16) and calls entry(args), so entry sees
 * the ABI's usual alignment: rsp % 16 == 8 after the call pushed its
 * return address.  If entry ever returns, exit_group(127).
 */
	.text
	.globl	_start
	.type	_start, @function
_start:
	xorl	%ebp, %ebp
	movq	%rsp, %rdi
	leaq	rst_stack_top(%rip), %rsp
	andq	$-16, %rsp
	call	rst_main
	jmp	1f
	.size	_start, . - _start

	.globl	rst_jump
	.type	rst_jump, @function
rst_jump:
	andq	$-16, %rdi
	movq	%rdi, %rsp
	movq	%rdx, %rdi
	xorl	%ebp, %ebp
	call	*%rsi
1:	movl	$127, %edi
	movl	$231, %eax		/* __NR_exit_group */
	syscall
	hlt
	.size	rst_jump, . - rst_jump

	.bss
	.balign	16
rst_stack:
	.skip	256 * 1024
rst_stack_top:

	.section .note.GNU-stack, "", @progbits
