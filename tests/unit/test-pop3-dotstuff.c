/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/pop3-dotstuff.c: fixed cases cut at every
   offset, then properties over generated messages fed in chunks of every
   kind (one byte at a time, random cuts, one piece). */

#include "lib.h"
#include "str.h"
#include "buffer.h"
#include "test-common.h"
#include "pop3-dotstuff.h"
#include "pop3-dotstuff-check.h"

/* generated messages: how many, how long at most, the TOP n tried */
#define TEST_DOTSTUFF_MESSAGES 3000
#define TEST_DOTSTUFF_MAX_LEN 48
#define TEST_DOTSTUFF_MAX_TOP 5
#define TEST_DOTSTUFF_MAX_CHUNKS TEST_DOTSTUFF_MAX_LEN

/* Convert msg fed in two pieces, cut at offset cut. */
static const char *convert(const char *msg, bool top, uoff_t lines,
			   size_t cut)
{
	size_t len = strlen(msg);
	size_t pieces[2] = { cut, len - cut };
	buffer_t *wire;

	wire = pop3_dotstuff_check_run((const void *)msg, len, pieces, 2,
				       top, lines);
	return t_strndup(wire->data, wire->used);
}

static void test_pop3_dotstuff_cases(void)
{
	static const struct {
		const char *msg;
		bool top;
		uoff_t lines;
		const char *out;
	} tests[] = {
		{ "", FALSE, 0, ".\r\n" },
		{ "a: b\n\nbody\n.\n", FALSE, 0,
		  "a: b\r\n\r\nbody\r\n..\r\n.\r\n" },
		{ "a: b\r\n\r\n.x\r\nno end", FALSE, 0,
		  "a: b\r\n\r\n..x\r\nno end\r\n.\r\n" },
		{ "a: b\n\n1\n2\n3\n", TRUE, 0, "a: b\r\n\r\n.\r\n" },
		{ "a: b\n\n1\n2\n3\n", TRUE, 2, "a: b\r\n\r\n1\r\n2\r\n.\r\n" },
		{ "a: b\n\r\n1\n2\n", TRUE, 1, "a: b\r\n\r\n1\r\n.\r\n" },
		/* a line of two CRs is not the end of the header */
		{ "a: b\n\r\r\nc: d\n\n1\n", TRUE, 0,
		  "a: b\r\n\r\r\nc: d\r\n\r\n.\r\n" },
		/* bare CR inside a line and at the very end stays */
		{ "a\rb\n\nx\ry\r", FALSE, 0, "a\rb\r\n\r\nx\ry\r\r\n.\r\n" },
		/* dots: a lone one, two, one after a CRLF, one mid-line */
		{ ".\r\n..\r\n\r\n.\n.a.b", FALSE, 0,
		  "..\r\n...\r\n\r\n..\r\n..a.b\r\n.\r\n" },
		/* a dot as the last byte with no line end */
		{ "h: v\n\n.", FALSE, 0, "h: v\r\n\r\n..\r\n.\r\n" },
		/* TOP n larger than the body: the whole message */
		{ "h: v\n\n1\n2", TRUE, 9, "h: v\r\n\r\n1\r\n2\r\n.\r\n" },
		/* no header/body separator: TOP sends everything */
		{ "h: v\nw: x", TRUE, 0, "h: v\r\nw: x\r\n.\r\n" },
		/* TOP stops right after its last line even when more data
		   follows in the same chunk, and the stuffed dot counts as
		   part of a body line */
		{ "h: v\n\n.1\n.2\n", TRUE, 1, "h: v\r\n\r\n..1\r\n.\r\n" },
	};

	test_begin("pop3_dotstuff cases, every cut");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		size_t len = strlen(tests[i].msg);

		/* the same output wherever the chunks are cut */
		for (size_t cut = 0; cut <= len; cut++) {
			test_assert_idx(strcmp(convert(tests[i].msg,
				tests[i].top, tests[i].lines, cut),
				tests[i].out) == 0, i * 100 + cut);
		}
	}
	test_end();
}

/* xorshift32: the same generated messages on every run */
static uint32_t test_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* A message made of the bytes that matter to the converter. */
static size_t gen_message(uint32_t *state, unsigned char *msg)
{
	static const unsigned char alphabet[] = "..\r\n\n\nab: ";
	size_t len = test_rand(state) % (TEST_DOTSTUFF_MAX_LEN + 1);

	for (size_t i = 0; i < len; i++)
		msg[i] = alphabet[test_rand(state) % (sizeof(alphabet) - 1)];
	return len;
}

/* Chunk sizes: kind 0 one piece, 1 one byte each, 2 random cuts (empty
   chunks included). */
static unsigned int gen_chunks(uint32_t *state, unsigned int kind,
			       size_t len, size_t *sizes)
{
	unsigned int count = 0;
	size_t left = len;

	switch (kind) {
	case 0:
		sizes[count++] = len;
		break;
	case 1:
		for (; left > 0; left--)
			sizes[count++] = 1;
		break;
	default:
		while (left > 0 && count < TEST_DOTSTUFF_MAX_CHUNKS - 1) {
			size_t n = test_rand(state) % (left + 1);
			sizes[count++] = n;
			left -= n;
		}
		sizes[count++] = left;
		break;
	}
	return count;
}

/* The line starting at offset pos ends after the returned offset. */
static size_t next_line(const buffer_t *buf, size_t pos)
{
	const unsigned char *p = memchr(CONST_PTR_OFFSET(buf->data, pos), '\n',
					buf->used - pos);
	i_assert(p != NULL);
	return p - (const unsigned char *)buf->data + 1;
}

/* TOP n's body is RETR's up to and including the blank line ending the
   header, then exactly n more lines (or all there are). */
static bool top_is_retr_prefix(const buffer_t *retr, const buffer_t *top,
			       uoff_t n)
{
	size_t pos = 0;
	bool in_body = FALSE;

	while (pos < retr->used) {
		if (in_body) {
			if (n == 0)
				break;
			n--;
		}
		size_t end = next_line(retr, pos);
		if (!in_body && end - pos == 2)
			in_body = TRUE;
		pos = end;
	}
	return top->used == pos && memcmp(top->data, retr->data, pos) == 0;
}

/* A stored message with CRLF line ends and a final CRLF. */
static buffer_t *crlf_message(const unsigned char *msg, size_t len)
{
	buffer_t *buf = t_buffer_create(len * 2 + 2);

	for (size_t i = 0; i < len; i++) {
		if (msg[i] == '\n' && (i == 0 || msg[i - 1] != '\r'))
			buffer_append_c(buf, '\r');
		buffer_append_c(buf, msg[i]);
	}
	if (buf->used > 0 && msg[len - 1] != '\n')
		buffer_append(buf, "\r\n", 2);
	return buf;
}

static void test_pop3_dotstuff_properties(void)
{
	unsigned char msg[TEST_DOTSTUFF_MAX_LEN];
	size_t sizes[TEST_DOTSTUFF_MAX_CHUNKS + 1];
	uint32_t state = 0x2449u;
	unsigned int failures = 0;

	test_begin("pop3_dotstuff round trip and TOP n, any chunks");
	for (unsigned int m = 0; m < TEST_DOTSTUFF_MESSAGES && failures < 5;
	     m++) T_BEGIN {
		size_t len = gen_message(&state, msg);
		unsigned int kind = m % 3;
		unsigned int count = gen_chunks(&state, kind, len, sizes);
		const char *error;
		buffer_t *wire, *retr, *top;

		/* RETR: un-stuffing gives the message with CRLF ends */
		wire = pop3_dotstuff_check_run(msg, len, sizes, count,
					       FALSE, 0);
		retr = pop3_dotstuff_check_unstuff(wire, &error);
		if (retr == NULL ||
		    !buffer_cmp(retr, crlf_message(msg, len))) {
			test_assert_idx(FALSE, m);
			failures++;
		}
		/* TOP n: a prefix of RETR, n body lines long */
		for (uoff_t n = 0; retr != NULL &&
		     n <= TEST_DOTSTUFF_MAX_TOP; n++) {
			wire = pop3_dotstuff_check_run(msg, len, sizes, count,
						       TRUE, n);
			top = pop3_dotstuff_check_unstuff(wire, &error);
			if (top == NULL || !top_is_retr_prefix(retr, top, n) ||
			    !buffer_cmp(top, pop3_dotstuff_check_model(
					msg, len, TRUE, n))) {
				test_assert_idx(FALSE, m * 10 + n);
				failures++;
			}
		}
	} T_END;
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_dotstuff_cases,
		test_pop3_dotstuff_properties,
		NULL
	};
	return test_run(test_functions);
}
