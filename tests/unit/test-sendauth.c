/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/sendauth.c */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "test-common.h"
#include "sendauth.h"

static void append_msg(buffer_t *buf, const void *data, size_t size)
{
	sendauth_frame_append(buf, data, size);
}

static void append_opening(buffer_t *buf, const char *sendauth_version,
			   const char *appl_version)
{
	append_msg(buf, sendauth_version, strlen(sendauth_version) + 1);
	append_msg(buf, appl_version, strlen(appl_version) + 1);
}

static const unsigned char test_ap_req[] = {
	0x6e, 0x82, 0x01, 0x00, 0x00, 0x0d, 0x0a, 0xff, 0x30, 0x31
};

static void test_sendauth_whole(void)
{
	struct sendauth_parser parser;
	buffer_t *buf = t_buffer_create(256);
	const char *pipelined = "USER alice\r\nPASS x\r\nSTAT\r\n";
	enum sendauth_result ret;
	size_t consumed, pos = 0;

	test_begin("sendauth parser: opening, AP-REQ and pipelined bytes");
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	append_msg(buf, test_ap_req, sizeof(test_ap_req));
	buffer_append(buf, pipelined, strlen(pipelined));

	sendauth_parser_init(&parser, default_pool, 0);
	ret = sendauth_parser_feed(&parser, buf->data, buf->used, &consumed);
	test_assert(ret == SENDAUTH_RESULT_VERSIONS);
	test_assert(consumed == 4 + 19 + 4 + 9);
	test_assert(parser.verdict == SENDAUTH_VERDICT_OK);
	test_assert_strcmp(parser.sendauth_version, SENDAUTH_VERSION);
	test_assert_strcmp(parser.appl_version, KPOP_APPL_VERSION);
	pos += consumed;

	/* nothing is consumed before the verdict is sent */
	ret = sendauth_parser_feed(&parser, CONST_PTR_OFFSET(buf->data, pos),
				   buf->used - pos, &consumed);
	test_assert(ret == SENDAUTH_RESULT_MORE && consumed == 0);

	sendauth_parser_verdict_sent(&parser);
	ret = sendauth_parser_feed(&parser, CONST_PTR_OFFSET(buf->data, pos),
				   buf->used - pos, &consumed);
	test_assert(ret == SENDAUTH_RESULT_AP_REQ);
	test_assert(consumed == 4 + sizeof(test_ap_req));
	test_assert(parser.ap_req->used == sizeof(test_ap_req) &&
		    memcmp(parser.ap_req->data, test_ap_req,
			   sizeof(test_ap_req)) == 0);
	pos += consumed;
	/* the POP3 commands are left for the caller */
	test_assert(buf->used - pos == strlen(pipelined));
	test_assert(memcmp(CONST_PTR_OFFSET(buf->data, pos), pipelined,
			   strlen(pipelined)) == 0);
	test_assert(parser.state == SENDAUTH_STATE_DONE);
	sendauth_parser_deinit(&parser);
	test_assert(parser.ap_req == NULL);
	test_end();
}

static void test_sendauth_drip(void)
{
	struct sendauth_parser parser;
	buffer_t *buf = t_buffer_create(256);
	enum sendauth_result ret;
	unsigned int events = 0;
	size_t consumed, i;

	test_begin("sendauth parser: one byte at a time");
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	append_msg(buf, test_ap_req, sizeof(test_ap_req));

	sendauth_parser_init(&parser, default_pool, 0);
	for (i = 0; i < buf->used; ) {
		ret = sendauth_parser_feed(&parser,
					   CONST_PTR_OFFSET(buf->data, i), 1,
					   &consumed);
		i += consumed;
		if (ret == SENDAUTH_RESULT_VERSIONS) {
			test_assert(parser.verdict == SENDAUTH_VERDICT_OK);
			sendauth_parser_verdict_sent(&parser);
			events++;
		} else if (ret == SENDAUTH_RESULT_AP_REQ) {
			events++;
		} else {
			test_assert(ret == SENDAUTH_RESULT_MORE);
			test_assert(consumed == 1);
		}
	}
	test_assert(events == 2);
	test_assert(parser.state == SENDAUTH_STATE_DONE);
	test_assert(parser.ap_req->used == sizeof(test_ap_req));
	sendauth_parser_deinit(&parser);
	test_end();
}

static enum sendauth_result
feed_all(struct sendauth_parser *parser, const buffer_t *buf, size_t *pos)
{
	enum sendauth_result ret;
	size_t consumed;

	ret = sendauth_parser_feed(parser, CONST_PTR_OFFSET(buf->data, *pos),
				   buf->used - *pos, &consumed);
	*pos += consumed;
	return ret;
}

static void test_sendauth_bad_versions(void)
{
	static const struct {
		const char *sendauth, *appl;
		enum sendauth_verdict verdict;
	} tests[] = {
		{ SENDAUTH_VERSION, KPOP_APPL_VERSION, SENDAUTH_VERDICT_OK },
		{ "KRB5_SENDAUTH_V2.0", KPOP_APPL_VERSION,
		  SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION },
		{ SENDAUTH_VERSION, "KPOPV2.0",
		  SENDAUTH_VERDICT_BAD_APPL_VERSION },
		{ SENDAUTH_VERSION, "KPOPV0.1",
		  SENDAUTH_VERDICT_BAD_APPL_VERSION },
		/* a bad sendauth version wins */
		{ "x", "y", SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION },
	};
	struct sendauth_parser parser;
	buffer_t *buf;
	size_t pos;

	test_begin("sendauth parser: version verdicts");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		buf = t_buffer_create(128);
		append_opening(buf, tests[i].sendauth, tests[i].appl);
		buffer_append(buf, "\0\0\0\1x", 5);
		sendauth_parser_init(&parser, default_pool, 0);
		pos = 0;
		test_assert_idx(feed_all(&parser, buf, &pos) ==
				SENDAUTH_RESULT_VERSIONS, i);
		test_assert_idx(parser.verdict == tests[i].verdict, i);
		test_assert_strcmp_idx(parser.appl_version, tests[i].appl, i);
		sendauth_parser_verdict_sent(&parser);
		if (tests[i].verdict == SENDAUTH_VERDICT_OK) {
			test_assert_idx(feed_all(&parser, buf, &pos) ==
					SENDAUTH_RESULT_AP_REQ, i);
		} else {
			/* refused: no more input is taken */
			test_assert_idx(feed_all(&parser, buf, &pos) ==
					SENDAUTH_RESULT_ERROR, i);
			test_assert_idx(parser.error ==
					SENDAUTH_ERROR_REFUSED, i);
		}
		sendauth_parser_deinit(&parser);
	}

	/* zero-length and NUL-less versions are bad versions */
	buf = t_buffer_create(128);
	append_msg(buf, "", 0);
	append_msg(buf, KPOP_APPL_VERSION, strlen(KPOP_APPL_VERSION));
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	test_assert(parser.verdict == SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION);
	test_assert(pos == buf->used);
	sendauth_parser_deinit(&parser);

	buf = t_buffer_create(128);
	append_msg(buf, SENDAUTH_VERSION, strlen(SENDAUTH_VERSION) + 1);
	append_msg(buf, KPOP_APPL_VERSION, strlen(KPOP_APPL_VERSION));
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	test_assert(parser.verdict == SENDAUTH_VERDICT_BAD_APPL_VERSION);
	sendauth_parser_deinit(&parser);
	test_end();
}

static void test_sendauth_errors(void)
{
	struct sendauth_parser parser;
	buffer_t *buf;
	size_t pos;

	test_begin("sendauth parser: Kerberos IV opening");
	buf = t_buffer_create(64);
	buffer_append(buf, "AUTHV0.1KPOPV0.1", 16);
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_KRB4);
	test_assert(strstr(sendauth_error_str(&parser), "Kerberos IV") != NULL);
	/* stays failed */
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_KRB4);
	sendauth_parser_deinit(&parser);
	test_end();

	test_begin("sendauth parser: oversized version message");
	buf = t_buffer_create(64);
	buffer_append(buf, "\0\0\0\x41", 4);
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_VERSION_TOO_LONG);
	sendauth_parser_deinit(&parser);
	/* a huge length, e.g. an HTTP or POP3 client on the KPOP port */
	buf = t_buffer_create(64);
	buffer_append(buf, "GET / HTTP/1.0\r\n", 16);
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_VERSION_TOO_LONG);
	test_assert(pos == 4);
	sendauth_parser_deinit(&parser);
	test_end();

	test_begin("sendauth parser: zero and huge AP-REQ lengths");
	buf = t_buffer_create(64);
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	buffer_append(buf, "\0\0\0\0", 4);
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	sendauth_parser_verdict_sent(&parser);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_AP_REQ_EMPTY);
	sendauth_parser_deinit(&parser);

	buf = t_buffer_create(64);
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	buffer_append(buf, "\x7f\xff\xff\xff", 4);
	sendauth_parser_init(&parser, default_pool, 0);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	sendauth_parser_verdict_sent(&parser);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_AP_REQ_TOO_LARGE);
	test_assert(strstr(sendauth_error_str(&parser), "2147483647") != NULL);
	/* nothing was allocated for the claimed length */
	test_assert(parser.ap_req->used == 0);
	sendauth_parser_deinit(&parser);

	/* exactly at the limit is fine (a smaller limit for the test) */
	buf = t_buffer_create(64);
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	append_msg(buf, "0123456789", 10);
	sendauth_parser_init(&parser, default_pool, 10);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	sendauth_parser_verdict_sent(&parser);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_AP_REQ);
	sendauth_parser_deinit(&parser);

	buf = t_buffer_create(64);
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	append_msg(buf, "0123456789X", 11);
	sendauth_parser_init(&parser, default_pool, 10);
	pos = 0;
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	sendauth_parser_verdict_sent(&parser);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_ERROR);
	test_assert(parser.error == SENDAUTH_ERROR_AP_REQ_TOO_LARGE);
	sendauth_parser_deinit(&parser);
	test_end();
}

static void test_sendauth_describe(void)
{
	struct sendauth_parser parser;
	buffer_t *buf = t_buffer_create(64);
	size_t pos = 0;

	test_begin("sendauth parser: state descriptions");
	sendauth_parser_init(&parser, default_pool, 0);
	test_assert_strcmp(sendauth_parser_describe_state(&parser),
		"reading the length of the sendauth version (0 of 4 bytes)");
	append_opening(buf, SENDAUTH_VERSION, KPOP_APPL_VERSION);
	buffer_append(buf, "\0\0\x01\0abc", 7);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_VERSIONS);
	sendauth_parser_verdict_sent(&parser);
	test_assert(feed_all(&parser, buf, &pos) == SENDAUTH_RESULT_MORE);
	test_assert_strcmp(sendauth_parser_describe_state(&parser),
			   "reading the AP-REQ (3 of 256 bytes)");
	sendauth_parser_deinit(&parser);
	test_end();
}

static void test_sendauth_printable(void)
{
	char dest[SENDAUTH_MAX_VERSION_LEN * 4 + 1];

	test_begin("sendauth_printable");
	sendauth_printable(dest, (const unsigned char *)"KPOPV1.0", 9);
	test_assert_strcmp(dest, "KPOPV1.0");
	sendauth_printable(dest, (const unsigned char *)"a\nb\\\x80\0", 6);
	test_assert_strcmp(dest, "a\\x0ab\\x5c\\x80");
	sendauth_printable(dest, (const unsigned char *)"", 0);
	test_assert_strcmp(dest, "");
	test_end();
}

static void test_sendauth_frames(void)
{
	buffer_t *buf = t_buffer_create(64);

	test_begin("sendauth frames");
	sendauth_accepted_append(buf);
	test_assert(buf->used == 4 &&
		    memcmp(buf->data, "\0\0\0\0", 4) == 0);
	buffer_set_used_size(buf, 0);
	sendauth_frame_append(buf, "abc", 3);
	test_assert(buf->used == 7 &&
		    memcmp(buf->data, "\0\0\0\x03" "abc", 7) == 0);
	buffer_set_used_size(buf, 0);
	sendauth_frame_append(buf, NULL, 0);
	test_assert(buf->used == 4);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_sendauth_whole,
		test_sendauth_drip,
		test_sendauth_bad_versions,
		test_sendauth_errors,
		test_sendauth_describe,
		test_sendauth_printable,
		test_sendauth_frames,
		NULL
	};
	return test_run(test_functions);
}
