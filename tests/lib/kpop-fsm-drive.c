/* SPDX-License-Identifier: LGPL-2.1-only */
/* Test driver of the KPOP state machine (see kpop-fsm-drive.h). */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "istream.h"
#include "test-common.h"
#include "kpop-mech-msg.h"
#include "kpop-fsm-drive.h"

/* the mechanism's answer: accepted, with an AP-REP (mutual
   authentication) */
static const unsigned char kpop_fsm_drive_accept[] = {
	KPOP_MECH_CHALLENGE_ACCEPTED, 0x6f, 0x05, 0x30
};

static const char *const kpop_fsm_drive_kinds[] = {
	[KPOP_ACTION_READ_MORE] = "more",
	[KPOP_ACTION_CONTINUE] = "cont",
	[KPOP_ACTION_BEGIN_AUTH] = "begin-auth",
	[KPOP_ACTION_RUN_COMMAND] = "run",
	[KPOP_ACTION_SET_USER] = "set-user",
	[KPOP_ACTION_SEND_USER] = "send-user",
	[KPOP_ACTION_SEND_MORE] = "send-more",
	[KPOP_ACTION_GREET] = "greet",
	[KPOP_ACTION_REJECT] = "reject",
	[KPOP_ACTION_FAIL] = "fail",
	[KPOP_ACTION_DISCONNECT] = "disconnect",
};

void kpop_fsm_drive_init(struct kpop_fsm_drive *drive,
			 const void *wire, size_t wire_size)
{
	i_zero(drive);
	drive->state = KPOP_STATE_SENDAUTH;
	drive->wire = wire;
	drive->wire_size = wire_size;
	drive->record = str_new(default_pool, 256);
	sendauth_parser_init(&drive->parser, default_pool, 0);
}

void kpop_fsm_drive_deinit(struct kpop_fsm_drive *drive)
{
	i_stream_unref(&drive->input);
	sendauth_parser_deinit(&drive->parser);
	str_free(&drive->record);
}

/* What the machine promises about an action in a state. */
static void kpop_fsm_drive_check(const struct kpop_fsm_drive *drive,
				 const struct kpop_action *a)
{
	i_assert(a->kind < N_ELEMENTS(kpop_fsm_drive_kinds));
	i_assert(a->next_state < KPOP_STATE_COUNT);
	i_assert(a->reply == KPOP_REPLY_NONE || a->reply_text != NULL);
	i_assert(!a->too_many_bad || a->kind == KPOP_ACTION_DISCONNECT);
	switch (drive->state) {
	case KPOP_STATE_SENDAUTH:
		/* no POP3 before the greeting; the auth glue leaves the
		   state */
		i_assert(a->reply == KPOP_REPLY_NONE);
		i_assert(a->next_state == KPOP_STATE_SENDAUTH);
		break;
	case KPOP_STATE_VERIFYING:
		i_assert(a->next_state != KPOP_STATE_SENDAUTH &&
			 a->next_state != KPOP_STATE_LOGGING_IN);
		break;
	case KPOP_STATE_COMMANDS:
		/* POP3 only; a late answer of the mechanism fails */
		i_assert(a->raw_size == 0);
		i_assert(a->next_state == KPOP_STATE_COMMANDS ||
			 a->next_state == KPOP_STATE_LOGGING_IN ||
			 a->next_state == KPOP_STATE_FAILED);
		/* a bad command is answered, and one too many ends it */
		i_assert(drive->bad_counter < KPOP_FSM_DRIVE_MAX_BAD ||
			 a->too_many_bad);
		break;
	default:
		break;
	}
	switch (a->kind) {
	case KPOP_ACTION_RUN_COMMAND:
		i_assert(a->cmd->id == LOGIN_CMD_CAPA ||
			 a->cmd->id == LOGIN_CMD_KPOP_STLS);
		break;
	case KPOP_ACTION_SET_USER:
		i_assert(a->args[0] != '\0' &&
			 strlen(a->args) <= KPOP_MAX_USER_LEN &&
			 strchr(a->args, ' ') == NULL);
		break;
	case KPOP_ACTION_SEND_USER:
		i_assert(drive->have_user &&
			 a->next_state == KPOP_STATE_LOGGING_IN);
		break;
	case KPOP_ACTION_REJECT:
	case KPOP_ACTION_FAIL:
		i_assert(a->reason != NULL);
		break;
	case KPOP_ACTION_DISCONNECT:
		/* only QUIT ends without a reason of its own */
		i_assert(a->reason != NULL || a->reply == KPOP_REPLY_OK);
		break;
	default:
		break;
	}
}

void kpop_fsm_drive_record(struct kpop_fsm_drive *drive,
			   const struct kpop_action *a)
{
	string_t *rec = drive->record;

	kpop_fsm_drive_check(drive, a);
	str_append(rec, kpop_fsm_drive_kinds[a->kind]);
	switch (a->kind) {
	case KPOP_ACTION_RUN_COMMAND:
		str_printfa(rec, "(%s)", a->cmd->name);
		/* CAPA and STLS (refused without TLS) answer and are done */
		drive->bad_counter = 0;
		break;
	case KPOP_ACTION_SET_USER:
		str_printfa(rec, "(%s)", a->args);
		drive->have_user = TRUE;
		break;
	case KPOP_ACTION_GREET:
		str_printfa(rec, "(%zu)", a->data_size);
		break;
	case KPOP_ACTION_REJECT:
	case KPOP_ACTION_FAIL:
	case KPOP_ACTION_DISCONNECT:
		str_printfa(rec, "(%s)", a->reason == NULL ? "logout" :
			    a->reason);
		drive->ended = a->kind != KPOP_ACTION_REJECT;
		break;
	default:
		break;
	}
	if (a->raw_size == 1) {
		str_printfa(rec, "[verdict %u]", a->verdict);
	} else if (a->raw_size > 2) {
		/* a text line: without its CRLF */
		str_printfa(rec, "[%.*s]", (int)a->raw_size - 2,
			    (const char *)a->raw);
	}
	if (a->reply != KPOP_REPLY_NONE) {
		const char *tag = a->reply == KPOP_REPLY_OK ? "+OK" :
			a->reply == KPOP_REPLY_TEMPFAIL ? "-ERR [SYS/TEMP]" :
			"-ERR";
		if (drive->replies_text)
			str_printfa(rec, "[%s %s]", tag, a->reply_text);
		else
			str_printfa(rec, "[%s]", tag);
	}
	if (a->too_many_bad)
		str_printfa(rec, "[%s]",
			    KPOP_TEXT(POP3_MSG_TOO_MANY_BAD_COMMANDS));
	if (a->log_error != NULL)
		str_printfa(rec, "{%s}", a->log_error);
	if (a->next_state != drive->state) {
		str_printfa(rec, "=>%s", kpop_state_name(a->next_state));
		drive->state = a->next_state;
	}
	str_append_c(rec, ' ');
}

/* The sendauth phase: what kpop_sendauth_input() does with the bytes
   buffered so far; the auth glue verifies right away and the mechanism
   accepts. */
static void kpop_fsm_drive_sendauth(struct kpop_fsm_drive *drive,
				    size_t avail)
{
	struct kpop_action a;
	size_t used;

	while (drive->pop3_start == 0 && !drive->ended) {
		kpop_fsm_sendauth(&drive->parser,
				  drive->wire + drive->consumed,
				  avail - drive->consumed, &used, &a);
		i_assert(used <= avail - drive->consumed);
		drive->consumed += used;
		if (a.kind == KPOP_ACTION_READ_MORE) {
			i_assert(drive->consumed == avail);
			return;
		}
		if (a.kind != KPOP_ACTION_BEGIN_AUTH) {
			kpop_fsm_drive_record(drive, &a);
			continue;
		}
		str_printfa(drive->record, "begin-auth(ap-req=%zu) ",
			    drive->parser.ap_req->used);
		/* kpop_begin_auth() with the auth server there */
		drive->state = KPOP_STATE_VERIFYING;
		kpop_fsm_challenge(drive->state, kpop_fsm_drive_accept,
				   sizeof(kpop_fsm_drive_accept),
				   drive->parser.ap_req->used,
				   drive->parser.ap_req->used, &a);
		kpop_fsm_drive_record(drive, &a);
		drive->pop3_start = drive->consumed;
		drive->input = test_istream_create_data(
			drive->wire + drive->pop3_start,
			drive->wire_size - drive->pop3_start);
		if (drive->max_line != 0) {
			i_stream_set_max_buffer_size(drive->input,
						     drive->max_line);
		}
		test_istream_set_size(drive->input, 0);
	}
}

/* The command loop of the KPOP port (kpop_commands_input()) over the
   lines buffered so far; called again while reading brings more (as the
   ioloop does while the socket has data). */
static void kpop_fsm_drive_lines(struct kpop_fsm_drive *drive, size_t avail)
{
	enum pop3_line_read_result ret;
	struct kpop_action a;
	const char *line;
	ssize_t nread;

	test_istream_set_size(drive->input, avail - drive->pop3_start);
	do {
		nread = i_stream_read(drive->input);
		while (drive->state == KPOP_STATE_COMMANDS && !drive->ended) {
			ret = pop3_line_read(drive->input, &line);
			kpop_fsm_command(drive->state, ret, line,
					 drive->have_user, &drive->bad_counter,
					 KPOP_FSM_DRIVE_MAX_BAD, &a);
			if (a.kind != KPOP_ACTION_READ_MORE) {
				kpop_fsm_drive_record(drive, &a);
				continue;
			}
			if (ret == POP3_LINE_READ_TOO_LONG) {
				/* login-common's client_read() ends the
				   client */
				str_append(drive->record, "too-long:");
				kpop_fsm_drive_record(drive, &a);
				drive->ended = TRUE;
			}
			break;
		}
	} while (nread > 0 && drive->state == KPOP_STATE_COMMANDS &&
		 !drive->ended);
}

void kpop_fsm_drive_feed(struct kpop_fsm_drive *drive, size_t avail)
{
	i_assert(avail <= drive->wire_size);
	if (drive->ended)
		return;
	if (drive->pop3_start == 0)
		kpop_fsm_drive_sendauth(drive, avail);
	if (drive->pop3_start != 0)
		kpop_fsm_drive_lines(drive, avail);
}
