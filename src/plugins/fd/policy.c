/* SPDX-License-Identifier: MIT */
/*
 * Per-file policy (enum cocoon_file_policy): rules "PATTERN=POLICY" from
 * $COCOON_FILE_POLICY (cocoon launch --file-policy), then from
 * cocoon_file_policy() calls; the last matching rule decides.  Rules only
 * grow; a rule is published by the count, so the checkpoint thread never
 * reads a half-written one.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cocoon.h"
#include "common/config.h"
#include "common/filepolicy.h"
#include "plugins/fd/policy.h"

#define MAX_RULES 64
#define PATTERN_MAX 512

static struct rule {
	char pattern[PATTERN_MAX];
	enum cocoon_file_policy policy;
} rules[MAX_RULES];
static _Atomic int nrules;
static atomic_flag adding = ATOMIC_FLAG_INIT;

int cocoon_file_policy(const char *pattern, enum cocoon_file_policy policy)
{
	if (!pattern || !*pattern || strlen(pattern) >= PATTERN_MAX ||
	    (policy != COCOON_FILE_REOPEN && policy != COCOON_FILE_SAVE && policy != COCOON_FILE_LEAVE))
		return -EINVAL;
	while (atomic_flag_test_and_set(&adding))
		; /* two threads adding rules at once: rare and short */
	int n = atomic_load(&nrules), err = 0;
	if (n == MAX_RULES) {
		err = -ENOSPC;
	} else {
		memcpy(rules[n].pattern, pattern, strlen(pattern) + 1);
		rules[n].policy = policy;
		atomic_store(&nrules, n + 1);
	}
	atomic_flag_clear(&adding);
	return err;
}

void fd_policy_init(void)
{
	const char *env = getenv(ENV_FILE_POLICY);
	char pattern[PATTERN_MAX], line[PATTERN_MAX + 16];

	while (env && *env) {
		size_t len = strcspn(env, "\n");
		if (len < sizeof(line)) {
			memcpy(line, env, len);
			line[len] = 0;
			int p = file_policy_parse(line, pattern, sizeof(pattern));
			if (p > 0)
				cocoon_file_policy(pattern, (enum cocoon_file_policy)p);
		}
		env += len + (env[len] == '\n');
	}
}

enum cocoon_file_policy fd_policy_for(const char *path)
{
	for (int i = atomic_load(&nrules) - 1; i >= 0; i--)
		if (fnmatch(rules[i].pattern, path, 0) == 0)
			return rules[i].policy;
	return 0;
}
