/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/pop3-dotstuff.c: fixed cases cut at every
   offset (with and without the client workarounds), then properties over
   generated messages fed in chunks of every kind (one byte at a time,
   random cuts, one piece) with every combination of the workarounds. */

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

/* both client workarounds */
#define TEST_WORKAROUNDS_ALL \
	(POP3_WORKAROUND_OUTLOOK_NO_NULS | POP3_WORKAROUND_OE_NS_EOH)

/* Convert len bytes of msg fed in two pieces, cut at offset cut. */
static buffer_t *convert_len(const char *msg, size_t len, bool top,
			     uoff_t lines, size_t cut,
			     enum pop3_client_workarounds workarounds)
{
	size_t pieces[2] = { cut, len - cut };

	return pop3_dotstuff_check_run((const void *)msg, len, pieces, 2,
				       top, lines, workarounds);
}

static const char *convert(const char *msg, bool top, uoff_t lines,
			   size_t cut)
{
	buffer_t *wire = convert_len(msg, strlen(msg), top, lines, cut, 0);

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

/* a string literal with its length (NULs in it included) */
#define BYTES(s) (s), sizeof(s) - 1

static void test_pop3_dotstuff_workarounds(void)
{
	static const struct {
		const char *msg;
		size_t msg_len;
		bool top;
		uoff_t lines;
		enum pop3_client_workarounds workarounds;
		const char *out;
		size_t out_len;
	} tests[] = {
		/* without the workaround a NUL is sent as it is */
		{ BYTES("a: \0\n\n\0b\n"), FALSE, 0, 0,
		  BYTES("a: \0\r\n\r\n\0b\r\n.\r\n") },
		{ BYTES("a: \0\n\n\0b\n"), FALSE, 0,
		  POP3_WORKAROUND_OUTLOOK_NO_NULS,
		  BYTES("a: \x80\r\n\r\n\x80" "b\r\n.\r\n") },
		/* a NUL starting a line is not a dot, a dot after it no
		   line start; the last byte a NUL */
		{ BYTES("\0.\n\n.\0\n\0"), FALSE, 0,
		  POP3_WORKAROUND_OUTLOOK_NO_NULS,
		  BYTES("\x80.\r\n\r\n..\x80\r\n\x80\r\n.\r\n") },
		{ BYTES("a: \0\n\n1\0\n2\n"), TRUE, 1,
		  POP3_WORKAROUND_OUTLOOK_NO_NULS,
		  BYTES("a: \x80\r\n\r\n1\x80\r\n.\r\n") },
		/* oe-ns-eoh: no empty line in the message */
		{ BYTES("h: v\nw: x\n"), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\nw: x\r\n\r\n.\r\n") },
		{ BYTES("h: v\nw: x"), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\nw: x\r\n\r\n.\r\n") },
		{ BYTES("h: v\nw: x"), TRUE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\nw: x\r\n\r\n.\r\n") },
		{ BYTES("h: v\r\n"), TRUE, 5, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\n\r\n.\r\n") },
		/* ... but not when the header ends, at the very end too, or
		   with a lone CR */
		{ BYTES("h: v\n\n"), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\n\r\n.\r\n") },
		{ BYTES("h: v\n\r\nb"), TRUE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\n\r\n.\r\n") },
		{ BYTES("h: v\n\r"), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\n\r\r\n.\r\n") },
		/* a line of two CRs does not end the header */
		{ BYTES("h: v\n\r\r"), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("h: v\r\n\r\r\r\n\r\n.\r\n") },
		/* an empty message has no header end either */
		{ BYTES(""), FALSE, 0, POP3_WORKAROUND_OE_NS_EOH,
		  BYTES("\r\n.\r\n") },
		/* both */
		{ BYTES("h: \0\n.w"), FALSE, 0, TEST_WORKAROUNDS_ALL,
		  BYTES("h: \x80\r\n..w\r\n\r\n.\r\n") },
		{ BYTES("h: \0\n\n\0\n"), TRUE, 0, TEST_WORKAROUNDS_ALL,
		  BYTES("h: \x80\r\n\r\n.\r\n") },
	};

	test_begin("pop3_dotstuff client workarounds, every cut");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (size_t cut = 0; cut <= tests[i].msg_len; cut++) {
			buffer_t *wire = convert_len(tests[i].msg,
				tests[i].msg_len, tests[i].top, tests[i].lines,
				cut, tests[i].workarounds);

			test_assert_idx(wire->used == tests[i].out_len &&
					memcmp(wire->data, tests[i].out,
					       wire->used) == 0,
					i * 100 + cut);
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
	static const unsigned char alphabet[] = "..\r\n\n\nab: \0";
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

		/* every combination of the client workarounds */
		for (enum pop3_client_workarounds w = 0;
		     w <= TEST_WORKAROUNDS_ALL; w++) {
			/* RETR: un-stuffing gives the message with CRLF
			   ends (and what the workarounds change) */
			wire = pop3_dotstuff_check_run(msg, len, sizes, count,
						       FALSE, 0, w);
			retr = pop3_dotstuff_check_unstuff(wire, &error);
			if (retr == NULL ||
			    (w == 0 && !buffer_cmp(retr,
						   crlf_message(msg, len))) ||
			    !buffer_cmp(retr, pop3_dotstuff_check_model(
					msg, len, FALSE, 0, w))) {
				test_assert_idx(FALSE, m * 100 + w);
				failures++;
				continue;
			}
			/* TOP n: a prefix of RETR, n body lines long */
			for (uoff_t n = 0; n <= TEST_DOTSTUFF_MAX_TOP; n++) {
				wire = pop3_dotstuff_check_run(msg, len, sizes,
							       count, TRUE, n,
							       w);
				top = pop3_dotstuff_check_unstuff(wire, &error);
				if (top == NULL ||
				    !top_is_retr_prefix(retr, top, n) ||
				    !buffer_cmp(top, pop3_dotstuff_check_model(
						msg, len, TRUE, n, w))) {
					test_assert_idx(FALSE,
							m * 100 + w * 10 + n);
					failures++;
				}
			}
		}
	} T_END;
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_dotstuff_cases,
		test_pop3_dotstuff_workarounds,
		test_pop3_dotstuff_properties,
		NULL
	};
	return test_run(test_functions);
}
