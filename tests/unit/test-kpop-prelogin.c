/* The bytes a KPOP client sends before login, as altpop-login takes them:
   the sendauth phase (module/lib/sendauth.c) frames the two version
   messages and the AP-REQ, what follows stays in the input stream and is
   read as POP3 command lines (module/lib/pop3-line-reader.c), pipelined or
   not. Fed in every cut into three chunks and one byte at a time, the
   events must be the same. */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "istream.h"
#include "test-common.h"
#include "sendauth.h"
#include "pop3-line-reader.h"

/* most chunks a stream is fed in */
#define TEST_KPOP_MAX_CHUNKS 256

static const unsigned char test_ap_req[] = {
	0x6e, 0x82, 0x00, 0x0d, 0x0a, 0x00, 0xff, 0x0d, 0x30, 0x31
};
/* after the ticket: a good line, one with a NUL, one with a bare CR, one
   with a bare LF end, and PASS */
static const char test_pop3[] =
	"USER alice\r\nUSER alice\0mallory\r\nCAPA\rX\r\nCAPA\nPASS x\r\n";
static const char *const test_events =
	"versions ap-req=10 line=USER alice bad bad line=CAPA line=PASS x ";

struct test_kpop_session {
	struct sendauth_parser parser;
	const buffer_t *wire;
	/* where the sendauth phase ended (0 while it goes on) */
	size_t pop3_start;
	struct istream *input;
	string_t *events;
	bool failed;
};

/* The sendauth phase: what kpop_sendauth_input() does with the bytes
   buffered so far (buffered = wire[consumed..avail)). */
static void test_kpop_sendauth(struct test_kpop_session *s, size_t *consumed,
			       size_t avail)
{
	size_t used;

	while (s->pop3_start == 0 && !s->failed) {
		switch (sendauth_parser_feed(&s->parser,
				CONST_PTR_OFFSET(s->wire->data, *consumed),
				avail - *consumed, &used)) {
		case SENDAUTH_RESULT_MORE:
			*consumed += used;
			return;
		case SENDAUTH_RESULT_VERSIONS:
			*consumed += used;
			str_append(s->events, "versions ");
			if (s->parser.verdict != SENDAUTH_VERDICT_OK)
				s->failed = TRUE;
			else
				sendauth_parser_verdict_sent(&s->parser);
			break;
		case SENDAUTH_RESULT_AP_REQ:
			*consumed += used;
			str_printfa(s->events, "ap-req=%zu ",
				    s->parser.ap_req->used);
			s->pop3_start = *consumed;
			s->input = test_istream_create_data(
				CONST_PTR_OFFSET(s->wire->data, *consumed),
				s->wire->used - *consumed);
			test_istream_set_size(s->input, 0);
			break;
		case SENDAUTH_RESULT_ERROR:
			str_printfa(s->events, "error=%s ",
				    sendauth_error_str(&s->parser));
			s->failed = TRUE;
			return;
		}
	}
}

/* The command phase: what the KPOP command loop reads of the bytes
   buffered so far. */
static void test_kpop_lines(struct test_kpop_session *s, size_t avail)
{
	const char *line;

	test_istream_set_size(s->input, avail - s->pop3_start);
	(void)i_stream_read(s->input);
	for (;;) {
		switch (pop3_line_read(s->input, &line)) {
		case POP3_LINE_READ_MORE:
			return;
		case POP3_LINE_READ_OK:
			str_printfa(s->events, "line=%s ", line);
			break;
		case POP3_LINE_READ_BAD_BYTES:
			str_append(s->events, "bad ");
			break;
		case POP3_LINE_READ_TOO_LONG:
			str_append(s->events, "too-long ");
			return;
		}
	}
}

/* Feed wire in chunks ending at the given offsets (the last one is
   wire->used); returns the events. */
static const char *test_kpop_feed(const buffer_t *wire, const size_t *ends,
				  unsigned int count)
{
	struct test_kpop_session s;
	size_t consumed = 0;

	i_zero(&s);
	s.wire = wire;
	s.events = t_str_new(128);
	sendauth_parser_init(&s.parser, default_pool, 0);
	for (unsigned int i = 0; i < count && !s.failed; i++) {
		if (s.pop3_start == 0)
			test_kpop_sendauth(&s, &consumed, ends[i]);
		if (s.pop3_start != 0)
			test_kpop_lines(&s, ends[i]);
	}
	i_stream_unref(&s.input);
	sendauth_parser_deinit(&s.parser);
	return str_c(s.events);
}

static buffer_t *test_kpop_wire(const char *sendauth_version)
{
	buffer_t *wire = t_buffer_create(256);

	sendauth_frame_append(wire, sendauth_version,
			      strlen(sendauth_version) + 1);
	sendauth_frame_append(wire, KPOP_APPL_VERSION,
			      strlen(KPOP_APPL_VERSION) + 1);
	sendauth_frame_append(wire, test_ap_req, sizeof(test_ap_req));
	buffer_append(wire, test_pop3, sizeof(test_pop3) - 1);
	return wire;
}

static void test_kpop_prelogin_cuts(void)
{
	const buffer_t *wire = test_kpop_wire(SENDAUTH_VERSION);
	size_t ends[TEST_KPOP_MAX_CHUNKS];
	unsigned int failures = 0;

	test_begin("kpop pre-login bytes: every cut into three chunks");
	i_assert(wire->used <= TEST_KPOP_MAX_CHUNKS);
	for (size_t a = 0; a <= wire->used && failures < 5; a++) {
		for (size_t b = a; b <= wire->used && failures < 5; b++) {
			T_BEGIN {
				ends[0] = a; ends[1] = b; ends[2] = wire->used;
				if (strcmp(test_kpop_feed(wire, ends, 3),
					   test_events) != 0) {
					test_assert_idx(FALSE, a * 1000 + b);
					failures++;
				}
			} T_END;
		}
	}
	test_end();

	test_begin("kpop pre-login bytes: one byte at a time");
	for (size_t i = 0; i < wire->used; i++)
		ends[i] = i + 1;
	test_assert_strcmp(test_kpop_feed(wire, ends, wire->used), test_events);
	test_end();
}

static void test_kpop_prelogin_refused(void)
{
	const buffer_t *wire = test_kpop_wire("KRB5_SENDAUTH_V0.9");
	size_t ends[TEST_KPOP_MAX_CHUNKS];

	test_begin("kpop pre-login bytes: a refused version reads no POP3");
	for (size_t i = 0; i < wire->used; i++)
		ends[i] = i + 1;
	test_assert_strcmp(test_kpop_feed(wire, ends, wire->used),
			   "versions ");
	ends[0] = wire->used;
	test_assert_strcmp(test_kpop_feed(wire, ends, 1), "versions ");
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_kpop_prelogin_cuts,
		test_kpop_prelogin_refused,
		NULL
	};
	return test_run(test_functions);
}
