/* SPDX-License-Identifier: MIT */
/*
 * The cocoon command: main() and the table of subcommands.  Each subcommand
 * lives in its own file and parses its own options.
 */
#include "cli/cli.h"
#include "common/config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "launch", cmd_launch, "run a program under checkpoint control" },
	{ "checkpoint", cmd_checkpoint, "checkpoint the running computation now" },
	{ "restart", cmd_restart, "restart a computation from its checkpoint" },
	{ "status", cmd_status, "show the coordinator and its processes" },
	{ "kill", cmd_kill, "end the running computation" },
	{ "coordinator", cmd_coordinator, "run a coordinator (normally started for you)" },
	{ "inspect", cmd_inspect, "show what a checkpoint image or directory holds" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("cocoon: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cocoon COMMAND [OPTIONS] [ARGS]\n"
		   "Transparent checkpoint/restart of Linux processes.\n\n"
		   "Commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'cocoon COMMAND --help' describes a command's options.\n"
		   "  -h, --help     show this help\n"
		   "  -V, --version  show the version\n");
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;

	if (!name) {
		usage(stderr);
		return 2;
	}
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "-V") == 0) {
		printf("cocoon %s\n", COCOON_VERSION);
		return 0;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1);
	cli_error("unknown command '%s' (try 'cocoon --help')", name);
	return 2;
}
