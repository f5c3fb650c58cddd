/* SPDX-License-Identifier: MIT */
/*
 * Unit test of the line protocol helpers (src/common/proto.c): escaping
 * round trips through parsing, lines come out of partial buffers whole, and
 * coordinator addresses parse or are refused.  Plain main(); prints each
 * failed check and exits 1 if any failed.
 */
#include "common/proto.h"
#include "check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const values[] = {
	"plain",
	"",
	"hello world",
	"a=b=c",
	"100%",
	"%41 is not A",
	"%",
	"%%%",
	"line\nbreak\r\n",
	"tab\there",
	"  leading and trailing  ",
	"ctl \x01\x1f\x7f",
	"UTF-8: ünïcødé 日本語 🐛",
	"/tmp/ckpt dir/gen-000001/4242.img",
	"\xff\xfe\x80",
};

#define NVALUES (sizeof(values) / sizeof(values[0]))

static void test_escape(void)
{
	char out[256];

	for (size_t i = 0; i < NVALUES; i++) {
		char *e = proto_escape(values[i], out, sizeof(out));
		CHECK(e == out);
		/* Nothing that would split a line or a key=value pair survives. */
		for (const char *p = e; *p; p++)
			if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '=') {
				fprintf(stderr, "escape of value %zu left byte 0x%02x\n", i,
					(unsigned char)*p);
				failures++;
			}
	}
	CHECK_STR(proto_escape("a b", out, sizeof(out)), "a%20b");
	CHECK_STR(proto_escape("x=1%", out, sizeof(out)), "x%3D1%25");
	CHECK_STR(proto_escape("\n", out, sizeof(out)), "%0A");
	CHECK_STR(proto_escape("é", out, sizeof(out)), "%C3%A9");
	CHECK_STR(proto_escape("", out, sizeof(out)), "");
	CHECK_STR(proto_escape("safe-chars_./:~", out, sizeof(out)), "safe-chars_./:~");

	/* Too small: "" and nothing written past cap. */
	memset(out, 'Z', sizeof(out));
	CHECK_STR(proto_escape("a b c", out, 5), "");
	for (size_t i = 5; i < sizeof(out); i++)
		if (out[i] != 'Z') {
			fprintf(stderr, "escape wrote past cap at %zu\n", i);
			failures++;
			break;
		}
	memset(out, 'Z', sizeof(out));
	CHECK(proto_escape("abc", out, 0) == out && out[0] == 'Z');
	/* proto_escape keeps 3 bytes of slack per character, so an exact fit
	 * is refused today; only check what holds either way. */
	CHECK_STR(proto_escape("abc", out, 8), "abc");
	CHECK_STR(proto_escape("abcd", out, 4), "");
	CHECK_STR(proto_escape("a b", out, 5), "");
}

/* Every value survives escape -> line -> parse, all in one message. */
static void test_roundtrip(void)
{
	char line[PROTO_LINE_MAX], esc[512];
	struct proto_msg m;
	size_t n = 0;

	n += (size_t)snprintf(line + n, sizeof(line) - n, "HELLO");
	for (size_t i = 0; i < NVALUES; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " k%zu=%s", i,
				      proto_escape(values[i], esc, sizeof(esc)));
	CHECK(n < sizeof(line));
	CHECK(proto_parse(line, &m) == 0);
	CHECK_STR(m.verb, "HELLO");
	CHECK(m.n == (int)NVALUES);
	for (size_t i = 0; i < NVALUES; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%zu", i);
		const char *v = proto_get(&m, key);
		if (!v || strcmp(v, values[i]) != 0) {
			fprintf(stderr, "value %zu did not round-trip: got \"%s\"\n", i,
				v ? v : "(null)");
			failures++;
		}
	}
}

static void test_parse(void)
{
	char line[PROTO_LINE_MAX];
	struct proto_msg m;

	strcpy(line, "WELCOME gen=3 name=a%20b");
	CHECK(proto_parse(line, &m) == 0);
	CHECK_STR(m.verb, "WELCOME");
	CHECK(m.n == 2);
	CHECK_STR(proto_get(&m, "name"), "a b");
	CHECK(proto_get(&m, "missing") == NULL);
	CHECK(proto_get_int(&m, "gen", -1) == 3);
	CHECK(proto_get_int(&m, "missing", -1) == -1);
	CHECK(proto_get_int(&m, "name", -5) == -5);

	strcpy(line, "  \tVERB   a=1\t b=-7  c= d=%2a%2A e=%zz f=%4 \r");
	CHECK(proto_parse(line, &m) == 0);
	CHECK_STR(m.verb, "VERB");
	CHECK(m.n == 6);
	CHECK(proto_get_int(&m, "a", 0) == 1);
	CHECK(proto_get_int(&m, "b", 0) == -7);
	CHECK_STR(proto_get(&m, "c"), "");
	CHECK(proto_get_int(&m, "c", 9) == 9);
	CHECK_STR(proto_get(&m, "d"), "**");
	CHECK_STR(proto_get(&m, "e"), "%zz");
	CHECK_STR(proto_get(&m, "f"), "%4");

	strcpy(line, "ONLYVERB");
	CHECK(proto_parse(line, &m) == 0 && m.n == 0);
	strcpy(line, "");
	CHECK(proto_parse(line, &m) == -EINVAL);
	strcpy(line, " \t \r");
	CHECK(proto_parse(line, &m) == -EINVAL);
	strcpy(line, "VERB novalue");
	CHECK(proto_parse(line, &m) == -EINVAL);

	/* PROTO_MAX_KV pairs fit, one more does not. */
	size_t n = (size_t)snprintf(line, sizeof(line), "MANY");
	for (int i = 0; i < PROTO_MAX_KV; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, " k%d=%d", i, i);
	char copy[PROTO_LINE_MAX];
	strcpy(copy, line);
	CHECK(proto_parse(copy, &m) == 0 && m.n == PROTO_MAX_KV);
	CHECK(proto_get_int(&m, "k31", -1) == 31);
	snprintf(line + n, sizeof(line) - n, " extra=1");
	CHECK(proto_parse(line, &m) == -EINVAL);
}

static void feed(struct proto_buf *b, const char *s)
{
	size_t n = strlen(s);

	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void test_take_line(void)
{
	static struct proto_buf b;
	char line[PROTO_LINE_MAX];

	b.len = 0;
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
	feed(&b, "HELLO a=1");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
	CHECK(b.len == 9);
	feed(&b, "\nWORLD");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 9);
	CHECK_STR(line, "HELLO a=1");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
	CHECK(b.len == 5);
	/* Empty lines are skipped. */
	feed(&b, "\n\n\nX\n");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 5);
	CHECK_STR(line, "WORLD");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 1);
	CHECK_STR(line, "X");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
	CHECK(b.len == 0);
	feed(&b, "\n\n");
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
	CHECK(b.len == 0);

	/* A stream fed one byte at a time gives the same lines. */
	static const char stream[] = "A x=1\nBB y=%20\r\n\nCCC\nDDDD z=";
	static const char *const want[] = { "A x=1", "BB y=%20\r", "CCC" };
	size_t got = 0;
	b.len = 0;
	for (const char *p = stream; *p; p++) {
		b.data[b.len++] = *p;
		int n;
		while ((n = proto_take_line(&b, line, sizeof(line))) > 0) {
			if (got < 3)
				CHECK_STR(line, want[got]);
			CHECK(n == (int)strlen(line));
			got++;
		}
		CHECK(n == 0);
	}
	CHECK(got == 3);
	CHECK(b.len == strlen("DDDD z="));

	/* A line longer than the caller's buffer is refused, not cut. */
	b.len = 0;
	feed(&b, "0123456789\n");
	CHECK(proto_take_line(&b, line, 10) == -EMSGSIZE);
	CHECK(proto_take_line(&b, line, 11) == 10);
	CHECK_STR(line, "0123456789");

	/* A full buffer without a newline is an over-long line. */
	memset(b.data, 'a', sizeof(b.data));
	b.len = sizeof(b.data);
	CHECK(proto_take_line(&b, line, sizeof(line)) == -EMSGSIZE);
	b.len = sizeof(b.data) - 1;
	CHECK(proto_take_line(&b, line, sizeof(line)) == 0);
}

/* proto_send and proto_read_line through a pipe. */
static void test_pipe(void)
{
	static struct proto_buf b;
	char line[PROTO_LINE_MAX], esc[64];
	int fds[2];

	CHECK(pipe(fds) == 0);
	b.len = 0;
	CHECK(proto_read_line(fds[0], &b, line, sizeof(line), 0) == -ETIMEDOUT);
	CHECK(proto_send(fds[1], "BARRIER gen=%d name=%s", 2,
			 proto_escape("pre ckpt", esc, sizeof(esc))) == 0);
	CHECK(write(fds[1], "GO gen=2", 8) == 8);
	CHECK(proto_read_line(fds[0], &b, line, sizeof(line), 1000) ==
	      (int)strlen("BARRIER gen=2 name=pre%20ckpt"));
	CHECK_STR(line, "BARRIER gen=2 name=pre%20ckpt");
	struct proto_msg m;
	CHECK(proto_parse(line, &m) == 0);
	CHECK_STR(proto_get(&m, "name"), "pre ckpt");
	CHECK(proto_read_line(fds[0], &b, line, sizeof(line), 0) == -ETIMEDOUT);
	close(fds[1]);
	/* The unterminated tail is not a line. */
	CHECK(proto_read_line(fds[0], &b, line, sizeof(line), 1000) == -EPIPE);
	close(fds[0]);

	/* An over-long formatted line is refused before anything is sent. */
	CHECK(pipe(fds) == 0);
	static char big[PROTO_LINE_MAX];
	memset(big, 'x', sizeof(big) - 1);
	CHECK(proto_send(fds[1], "V v=%s", big) == -EMSGSIZE);
	close(fds[1]);
	b.len = 0;
	CHECK(proto_read_line(fds[0], &b, line, sizeof(line), 1000) == -EPIPE);
	close(fds[0]);
}

static void addr_ok(int lineno, const char *s, const char *host, int port)
{
	char h[64] = "unset";
	int p = -1;
	int r = proto_parse_addr(s, h, sizeof(h), &p);

	if (r != 0 || strcmp(h, host) != 0 || p != port) {
		fprintf(stderr, "%s:%d: parse_addr(\"%s\") = %d host \"%s\" port %d, "
			"want host \"%s\" port %d\n", __FILE__, lineno, s, r, h, p, host, port);
		failures++;
	}
}

static void addr_bad(int lineno, const char *s, size_t hcap)
{
	char h[64];
	int p = -1;
	int r = proto_parse_addr(s, h, hcap, &p);

	if (r != -EINVAL) {
		fprintf(stderr, "%s:%d: parse_addr(\"%s\") = %d, want -EINVAL\n", __FILE__,
			lineno, s ? s : "(null)", r);
		failures++;
	}
}

static void test_addr(void)
{
	addr_ok(__LINE__, "7787", "127.0.0.1", 7787);
	addr_ok(__LINE__, "host:7787", "host", 7787);
	addr_ok(__LINE__, "10.1.2.3:80", "10.1.2.3", 80);
	addr_ok(__LINE__, "localhost:65535", "localhost", 65535);
	addr_ok(__LINE__, "[::1]:7787", "::1", 7787);
	addr_ok(__LINE__, "[fe80::1:2]:1", "fe80::1:2", 1);
	addr_ok(__LINE__, ":7787", "127.0.0.1", 7787);

	addr_bad(__LINE__, NULL, 64);
	addr_bad(__LINE__, "", 64);
	addr_bad(__LINE__, "host", 64);
	addr_bad(__LINE__, "host:", 64);
	addr_bad(__LINE__, "host:abc", 64);
	addr_bad(__LINE__, "host:77x", 64);
	addr_bad(__LINE__, "host:65536", 64);
	addr_bad(__LINE__, "host:99999999999999999999", 64);
	addr_bad(__LINE__, "host:-1", 64);
	addr_bad(__LINE__, "[::1]", 64);
	addr_bad(__LINE__, "[::1]7787", 64);
	addr_bad(__LINE__, "[::1:7787", 64);
	addr_bad(__LINE__, "[::1]:", 64);
	addr_bad(__LINE__, "[::1]:port", 64);
	/* Host that does not fit the caller's buffer. */
	addr_bad(__LINE__, "abcdefgh:1", 8);
	addr_ok(__LINE__, "abcdefg:1", "abcdefg", 1);
}

int main(void)
{
	test_escape();
	test_roundtrip();
	test_parse();
	test_take_line();
	test_pipe();
	test_addr();
	return check_report("proto");
}
