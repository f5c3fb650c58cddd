/* SPDX-License-Identifier: MIT */
/* The program break and malloc'd linked structures survive; both grow after restart. */
#include "crtest.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BRK_LEN (64 * 1024)
#define NODES 2000

struct node {
	struct node *next;
	size_t len;
	uint64_t seed;
	unsigned char data[];
};

static struct node *build(int n, uint64_t seed0)
{
	struct node *head = NULL;

	for (int i = 0; i < n; i++) {
		size_t len = 16 + (size_t)(i * 37) % 4000;
		if (i % 500 == 0)
			len = 200 * 1024; /* above the mmap threshold */
		struct node *x = malloc(sizeof(*x) + len);
		test_assert(x);
		x->len = len;
		x->seed = seed0 + (uint64_t)i;
		test_fill(x->data, len, x->seed);
		x->next = head;
		head = x;
	}
	return head;
}

static void check(struct node *head, int n, const char *what)
{
	int count = 0;

	for (struct node *x = head; x; x = x->next, count++)
		if (test_check_fill(x->data, x->len, x->seed))
			test_fail("%s: node %d (%zu bytes) damaged", what, count, x->len);
	if (count != n)
		test_fail("%s: %d nodes, want %d", what, count, n);
}

static void release(struct node *head)
{
	while (head) {
		struct node *next = head->next;
		free(head);
		head = next;
	}
}

int main(int argc, char **argv)
{
	test_init(argc, argv);

	char *area = sbrk(BRK_LEN);
	test_assert(area != (void *)-1);
	test_fill(area, BRK_LEN, 7);
	struct node *list = build(NODES, 1000);
	char *brk_at_ready = sbrk(0);

	test_ready();
	test_wait_done();

	if (test_check_fill(area, BRK_LEN, 7))
		test_fail("sbrk area damaged");
	if (sbrk(0) != brk_at_ready)
		test_fail("break moved: %p, was %p", sbrk(0), (void *)brk_at_ready);
	check(list, NODES, "old list");

	/* Grow both ways after the restart. */
	char *more = sbrk(BRK_LEN);
	if (more != brk_at_ready)
		test_fail("sbrk after restart returned %p, want %p", (void *)more,
			  (void *)brk_at_ready);
	test_fill(more, BRK_LEN, 8);
	struct node *list2 = build(NODES, 50000);
	check(list2, NODES, "new list");
	check(list, NODES, "old list after growth");
	if (test_check_fill(more, BRK_LEN, 8) || test_check_fill(area, BRK_LEN, 7))
		test_fail("sbrk areas damaged after growth");
	release(list);
	release(list2);
	test_pass();
}
