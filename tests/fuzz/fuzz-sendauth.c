/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the sendauth wire framing (module/lib/sendauth.c). The
   payload is fed once in one piece and once cut at fuzzer-chosen points
   (see fuzz_chunks_init()); both runs must end alike: the same events,
   versions, verdict, error, AP-REQ and the same number of bytes used. */

#include "lib.h"
#include "buffer.h"
#include "sendauth.h"
#include "fuzz-common.h"

#define FUZZ_MAX_AP_REQ 4096

struct sendauth_run {
	/* the events in order (MORE is not one: it depends on the cuts) */
	enum sendauth_result events[4];
	unsigned int event_count;
	enum sendauth_state state;
	enum sendauth_error error;
	enum sendauth_verdict verdict;
	size_t used;
	const char *sendauth_version, *appl_version, *describe;
	buffer_t *ap_req;
};

/* Feed one piece; returns FALSE when the parser takes no more input (the
   AP-REQ is complete or an error happened). */
static bool
sendauth_run_feed(struct sendauth_parser *parser, struct sendauth_run *run,
		  const unsigned char *data, size_t size)
{
	while (size > 0) {
		enum sendauth_result result;
		size_t consumed;

		result = sendauth_parser_feed(parser, data, size, &consumed);
		i_assert(consumed <= size);
		run->used += consumed;
		data += consumed;
		size -= consumed;
		switch (result) {
		case SENDAUTH_RESULT_MORE:
			i_assert(size == 0);
			break;
		case SENDAUTH_RESULT_VERSIONS:
			i_assert(parser->state == SENDAUTH_STATE_VERDICT);
			i_assert(run->event_count < N_ELEMENTS(run->events));
			run->events[run->event_count++] = result;
			sendauth_parser_verdict_sent(parser);
			break;
		case SENDAUTH_RESULT_AP_REQ:
		case SENDAUTH_RESULT_ERROR:
			i_assert(run->event_count < N_ELEMENTS(run->events));
			run->events[run->event_count++] = result;
			return FALSE;
		}
	}
	return TRUE;
}

static void sendauth_run_end(struct sendauth_parser *parser,
			     struct sendauth_run *run)
{
	run->state = parser->state;
	run->error = parser->error;
	run->verdict = parser->verdict;
	run->sendauth_version = t_strdup(parser->sendauth_version);
	run->appl_version = t_strdup(parser->appl_version);
	run->describe = t_strdup(sendauth_parser_describe_state(parser));
	run->ap_req = t_buffer_create(64);
	if (parser->state == SENDAUTH_STATE_DONE) {
		i_assert(parser->ap_req->used > 0);
		i_assert(parser->ap_req->used <= FUZZ_MAX_AP_REQ);
		buffer_append_buf(run->ap_req, parser->ap_req, 0, SIZE_MAX);
	}
	if (parser->state == SENDAUTH_STATE_FAILED)
		(void)sendauth_error_str(parser);
	sendauth_parser_deinit(parser);
}

void fuzz_one(const unsigned char *data, size_t size)
{
	struct fuzz_chunks chunks;
	struct sendauth_parser parser;
	struct sendauth_run whole, cut;
	size_t pos = 0;

	fuzz_chunks_init(&chunks, data, size);

	i_zero(&whole);
	sendauth_parser_init(&parser, default_pool, FUZZ_MAX_AP_REQ);
	(void)sendauth_run_feed(&parser, &whole, chunks.payload,
				chunks.payload_size);
	sendauth_run_end(&parser, &whole);

	i_zero(&cut);
	sendauth_parser_init(&parser, default_pool, FUZZ_MAX_AP_REQ);
	for (unsigned int i = 0; i < chunks.count; i++) {
		if (!sendauth_run_feed(&parser, &cut, chunks.payload + pos,
				       chunks.sizes[i]))
			break;
		pos += chunks.sizes[i];
	}
	sendauth_run_end(&parser, &cut);

	i_assert(whole.event_count == cut.event_count);
	i_assert(memcmp(whole.events, cut.events,
			sizeof(whole.events[0]) * whole.event_count) == 0);
	i_assert(whole.state == cut.state);
	i_assert(whole.error == cut.error);
	i_assert(whole.verdict == cut.verdict);
	i_assert(whole.used == cut.used);
	i_assert(strcmp(whole.sendauth_version, cut.sendauth_version) == 0);
	i_assert(strcmp(whole.appl_version, cut.appl_version) == 0);
	i_assert(strcmp(whole.describe, cut.describe) == 0);
	i_assert(buffer_cmp(whole.ap_req, cut.ap_req));
}
