/* SPDX-License-Identifier: MIT */
/*
 * `cocoon checkpoint`, `cocoon status`, `cocoon kill`: one control
 * connection to the coordinator, one request, print the answer.
 */
#include "cli/cli.h"
#include "common/config.h"
#include "common/proto.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ANSWER_TIMEOUT_MS 10000

static const char *arg_coord;
static bool arg_json;
static int arg_interval = -1;
static bool arg_forked;

/* One connection and its input buffer (too big for the stack of a helper). */
struct ctl {
	int fd;
	struct coord_addr addr;
	struct proto_buf in;
	char line[PROTO_LINE_MAX];
	struct proto_msg m;
};

static struct ctl ctl;

enum { OPT_COORD = 'c', OPT_JSON = 'j', OPT_INTERVAL = 'i', OPT_FORKED = 'f', OPT_HELP = 'h' };

/* Options shared by the three commands; `extra` names the ones a command
 * accepts beyond --coord and --help.  0, or the exit status to return. */
static int parse_options(int argc, char **argv, const char *extra, void (*usage)(FILE *))
{
	static const struct option opts[] = {
		{ "coord", required_argument, NULL, OPT_COORD },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "forked", no_argument, NULL, OPT_FORKED },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 },
	};
	char *end;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (c != OPT_COORD && c != OPT_HELP && (c == '?' || !strchr(extra, c))) {
			if (c != '?')
				cli_error("%s: unknown option", argv[0]);
			usage(stderr);
			return 2;
		}
		switch (c) {
		case OPT_COORD:
			arg_coord = optarg;
			break;
		case OPT_JSON:
			arg_json = true;
			break;
		case OPT_INTERVAL:
			arg_interval = (int)strtol(optarg, &end, 10);
			if (!*optarg || *end || arg_interval < 0) {
				cli_error("%s: bad --interval '%s'", argv[0], optarg);
				return 2;
			}
			break;
		case OPT_FORKED:
			arg_forked = true;
			break;
		case OPT_HELP:
			usage(stdout);
			exit(0);
		}
	}
	if (optind < argc) {
		cli_error("%s: unexpected argument '%s'", argv[0], argv[optind]);
		return 2;
	}
	return 0;
}

static int connect_ctl(void)
{
	int r = cli_coord_resolve(arg_coord, &ctl.addr);

	if (r) {
		cli_error("bad coordinator address '%s'",
			  arg_coord ? arg_coord : getenv(ENV_COORD) ? getenv(ENV_COORD) : "");
		return r;
	}
	ctl.fd = cli_coord_open_ctl(&ctl.addr);
	return ctl.fd < 0 ? ctl.fd : 0;
}

/* Next answer line, parsed into ctl.m.  0 or -errno (message printed). */
static int next_msg(int timeout_ms)
{
	int r = proto_read_line(ctl.fd, &ctl.in, ctl.line, sizeof(ctl.line), timeout_ms);

	if (r == -EPIPE || r == -ECONNRESET) {
		cli_error("the coordinator went away");
		return r;
	}
	if (r < 0) {
		cli_error("no answer from the coordinator: %s", strerror(-r));
		return r;
	}
	if (proto_parse(ctl.line, &ctl.m) < 0) {
		cli_error("garbled answer from the coordinator");
		return -EPROTO;
	}
	return 0;
}

/* An ERR answer: print its message.  Returns 1 when it was one. */
static int is_err(const char *what)
{
	const char *msg;

	if (strcmp(ctl.m.verb, "ERR") != 0)
		return 0;
	msg = proto_get(&ctl.m, "msg");
	cli_error("%s: %s", what, msg && *msg ? msg : "failed");
	return 1;
}

static void usage_checkpoint(FILE *f)
{
	fprintf(f, "usage: cocoon checkpoint [--coord HOST:PORT] [--forked] [--interval SECS]\n"
		   "Checkpoint every process of the computation now and wait until the\n"
		   "generation is complete; prints its number and the image paths.\n\n"
		   "  -c, --coord HOST:PORT  coordinator (default $%s, else %s:%d)\n"
		   "      --forked           each process forks a copy that writes its image\n"
		   "                         while the program goes on at once\n"
		   "      --interval SECS    instead, checkpoint every SECS seconds (0: stop)\n"
		   "  -h, --help             show this help\n",
		ENV_COORD, COCOON_DEFAULT_HOST, COCOON_DEFAULT_PORT);
}

static int set_interval(void)
{
	if (proto_send(ctl.fd, "SET interval=%d", arg_interval) < 0 || next_msg(ANSWER_TIMEOUT_MS))
		return 1;
	if (is_err("checkpoint"))
		return 1;
	printf("interval %d\n", arg_interval);
	return 0;
}

int cmd_checkpoint(int argc, char **argv)
{
	int r = parse_options(argc, argv, "if", usage_checkpoint);

	if (r)
		return r;
	if (connect_ctl())
		return 1;
	if (arg_interval >= 0)
		return set_interval();
	/* no timeout: a checkpoint of a big computation takes what it takes;
	 * the coordinator answers ERR if it loses a process meanwhile */
	if (proto_send(ctl.fd, "CHECKPOINT forked=%d", arg_forked) < 0 || next_msg(-1))
		return 1;
	if (is_err("checkpoint failed"))
		return 1;
	if (strcmp(ctl.m.verb, "OK") != 0) {
		cli_error("unexpected answer '%s' from the coordinator", ctl.m.verb);
		return 1;
	}
	printf("generation %lld\n", proto_get_int(&ctl.m, "gen", 0));
	for (;;) {
		if (next_msg(ANSWER_TIMEOUT_MS))
			return 1;
		if (strcmp(ctl.m.verb, "END") == 0)
			break;
		const char *p = proto_get(&ctl.m, "path");
		if (strcmp(ctl.m.verb, "IMAGE") == 0 && p)
			printf("%s\n", p);
	}
	return 0;
}

static void usage_status(FILE *f)
{
	fprintf(f, "usage: cocoon status [--coord HOST:PORT] [--json]\n"
		   "Show the coordinator and the processes of its computation.\n\n"
		   "  -c, --coord HOST:PORT  coordinator (default $%s, else %s:%d)\n"
		   "      --json             machine-readable output\n"
		   "  -h, --help             show this help\n",
		ENV_COORD, COCOON_DEFAULT_HOST, COCOON_DEFAULT_PORT);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static const char *get(const char *key)
{
	const char *v = proto_get(&ctl.m, key);
	return v ? v : "";
}

static void print_coord_json(void)
{
	printf("{\"coordinator\":{\"host\":");
	json_str(ctl.addr.host);
	printf(",\"port\":%d,\"generation\":%lld,\"ckpt_dir\":", ctl.addr.port,
	       proto_get_int(&ctl.m, "gen", 0));
	json_str(get("dir"));
	printf(",\"interval\":%lld,\"state\":", proto_get_int(&ctl.m, "interval", 0));
	json_str(get("state"));
	printf("},\"processes\":[");
}

static void print_proc_json(int i)
{
	printf("%s{\"vpid\":%lld,\"pid\":%lld,\"host\":", i ? "," : "",
	       proto_get_int(&ctl.m, "vpid", 0), proto_get_int(&ctl.m, "pid", 0));
	json_str(get("host"));
	printf(",\"name\":");
	json_str(get("name"));
	printf(",\"state\":");
	json_str(get("state"));
	printf(",\"generation\":%lld,\"restarted\":%s}", proto_get_int(&ctl.m, "gen", 0),
	       proto_get_int(&ctl.m, "restarted", 0) ? "true" : "false");
}

static void print_coord_text(void)
{
	const char *dir = get("dir");

	printf("coordinator  %s%s%s:%d\n", strchr(ctl.addr.host, ':') ? "[" : "", ctl.addr.host,
	       strchr(ctl.addr.host, ':') ? "]" : "", ctl.addr.port);
	printf("state        %s\n", get("state"));
	printf("generation   %lld\n", proto_get_int(&ctl.m, "gen", 0));
	printf("ckpt dir     %s\n", *dir ? dir : "(not known yet)");
	printf("interval     %lld%s\n", proto_get_int(&ctl.m, "interval", 0),
	       proto_get_int(&ctl.m, "interval", 0) ? " s" : " (off)");
	printf("processes    %lld\n", proto_get_int(&ctl.m, "procs", 0));
}

static void print_proc_text(int i)
{
	if (i == 0)
		printf("\n%8s %8s %-14s %5s %-9s %-16s %s\n", "VPID", "PID", "STATE", "GEN",
		       "RESTARTED", "HOST", "NAME");
	printf("%8lld %8lld %-14s %5lld %-9s %-16s %s\n", proto_get_int(&ctl.m, "vpid", 0),
	       proto_get_int(&ctl.m, "pid", 0), get("state"), proto_get_int(&ctl.m, "gen", 0),
	       proto_get_int(&ctl.m, "restarted", 0) ? "yes" : "no", get("host"), get("name"));
}

int cmd_status(int argc, char **argv)
{
	int r = parse_options(argc, argv, "j", usage_status);
	int n = 0;

	if (r)
		return r;
	if (connect_ctl()) {
		if (arg_json)
			printf("{\"coordinator\":null,\"processes\":[]}\n");
		return 1;
	}
	if (proto_send(ctl.fd, "STATUS") < 0 || next_msg(ANSWER_TIMEOUT_MS))
		return 1;
	if (is_err("status"))
		return 1;
	if (strcmp(ctl.m.verb, "COORD") != 0) {
		cli_error("unexpected answer '%s' from the coordinator", ctl.m.verb);
		return 1;
	}
	arg_json ? print_coord_json() : print_coord_text();
	for (;;) {
		if (next_msg(ANSWER_TIMEOUT_MS))
			return 1;
		if (strcmp(ctl.m.verb, "END") == 0)
			break;
		if (strcmp(ctl.m.verb, "PROC") != 0)
			continue;
		arg_json ? print_proc_json(n) : print_proc_text(n);
		n++;
	}
	if (arg_json)
		printf("]}\n");
	return 0;
}

static void usage_kill(FILE *f)
{
	fprintf(f, "usage: cocoon kill [--coord HOST:PORT]\n"
		   "End every process of the computation (checkpoints stay on disk).\n\n"
		   "  -c, --coord HOST:PORT  coordinator (default $%s, else %s:%d)\n"
		   "  -h, --help             show this help\n",
		ENV_COORD, COCOON_DEFAULT_HOST, COCOON_DEFAULT_PORT);
}

int cmd_kill(int argc, char **argv)
{
	int r = parse_options(argc, argv, "", usage_kill);

	if (r)
		return r;
	if (connect_ctl())
		return 1;
	if (proto_send(ctl.fd, "KILL") < 0 || next_msg(ANSWER_TIMEOUT_MS))
		return 1;
	if (is_err("kill"))
		return 1;
	printf("killed %lld process(es)\n", proto_get_int(&ctl.m, "killed", 0));
	return 0;
}
