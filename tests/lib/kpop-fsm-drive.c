/* SPDX-License-Identifier: LGPL-2.1-only */
/* Test driver of the KPOP state machine (see kpop-fsm-drive.h). */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "istream.h"
#include "test-common.h"
#include "kpop-limits.h"
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
	[KPOP_ACTION_WAIT_AUTH] = "wait-auth",
	[KPOP_ACTION_BEGIN_AUTH] = "begin-auth",
	[KPOP_ACTION_AUTH_RESPOND] = "respond",
	[KPOP_ACTION_READ_COMMANDS] = "commands",
	[KPOP_ACTION_RUN_COMMAND] = "run",
	[KPOP_ACTION_GREET] = "greet",
	[KPOP_ACTION_REJECT] = "reject",
	[KPOP_ACTION_LOGIN_RESULT] = "login-result",
	[KPOP_ACTION_DISCONNECT] = "disconnect",
};

void kpop_fsm_drive_init(struct kpop_fsm_drive *drive,
			 const void *wire, size_t wire_size)
{
	i_zero(drive);
	kpop_fsm_init(&drive->fsm, 0, KPOP_FSM_DRIVE_SERVICES,
		      KPOP_FSM_DRIVE_MAX_BAD);
	drive->state = drive->fsm.state;
	drive->wire = wire;
	drive->wire_size = wire_size;
	drive->record = str_new(default_pool, 256);
}

void kpop_fsm_drive_deinit(struct kpop_fsm_drive *drive)
{
	i_stream_unref(&drive->input);
	kpop_fsm_deinit(&drive->fsm);
	i_free(drive->user);
	str_free(&drive->record);
}

/* What the machine promises about an action in a state (old: the state
   before the event). */
static void kpop_fsm_drive_check(const struct kpop_fsm_drive *drive,
				 const struct kpop_action *a)
{
	enum kpop_state old = drive->state, new = drive->fsm.state;

	i_assert(a->kind < N_ELEMENTS(kpop_fsm_drive_kinds));
	i_assert(new < KPOP_STATE_COUNT);
	i_assert(a->state_changed == (old != new));
	i_assert(!a->state_changed ||
		 a->timeout_msecs == kpop_state_timeout_msecs(new));
	i_assert(a->reply == KPOP_REPLY_NONE || a->reply_text != NULL);
	i_assert(!a->too_many_bad || a->kind == KPOP_ACTION_DISCONNECT);
	switch (old) {
	case KPOP_STATE_SENDAUTH:
		/* no POP3 before the greeting */
		i_assert(a->reply == KPOP_REPLY_NONE);
		i_assert(new == KPOP_STATE_SENDAUTH ||
			 new == KPOP_STATE_WAIT_AUTH ||
			 new == KPOP_STATE_VERIFYING);
		break;
	case KPOP_STATE_VERIFYING:
		i_assert(new != KPOP_STATE_SENDAUTH &&
			 new != KPOP_STATE_LOGGING_IN);
		break;
	case KPOP_STATE_COMMANDS:
		/* POP3 only; a late answer of the mechanism fails */
		i_assert(a->raw_size == 0);
		i_assert(new == KPOP_STATE_COMMANDS ||
			 new == KPOP_STATE_LOGGING_IN ||
			 new == KPOP_STATE_FAILED);
		/* a bad command is answered, and one too many ends it */
		i_assert(drive->bad_counter < KPOP_FSM_DRIVE_MAX_BAD ||
			 a->too_many_bad);
		break;
	default:
		break;
	}
	/* a USER name is a name */
	i_assert(drive->fsm.user == NULL ||
		 (drive->fsm.user[0] != '\0' &&
		  strlen(drive->fsm.user) <= KPOP_MAX_USER_LEN &&
		  strchr(drive->fsm.user, ' ') == NULL));
	switch (a->kind) {
	case KPOP_ACTION_RUN_COMMAND:
		i_assert(a->cmd->kind == KPOP_COMMAND_CAPA ||
			 a->cmd->kind == KPOP_COMMAND_STLS);
		break;
	case KPOP_ACTION_BEGIN_AUTH:
		i_assert(new == KPOP_STATE_VERIFYING && a->data_size > 0);
		break;
	case KPOP_ACTION_AUTH_RESPOND:
		/* PASS sends the USER name */
		i_assert(old != KPOP_STATE_COMMANDS ||
			 (new == KPOP_STATE_LOGGING_IN &&
			  drive->fsm.user != NULL &&
			  a->data_size == strlen(drive->fsm.user)));
		break;
	case KPOP_ACTION_REJECT:
		i_assert(a->reason != NULL && new == KPOP_STATE_REJECTED);
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
	const char *user = drive->fsm.user;
	size_t i;

	kpop_fsm_drive_check(drive, a);
	str_append(rec, kpop_fsm_drive_kinds[a->kind]);
	switch (a->kind) {
	case KPOP_ACTION_RUN_COMMAND:
		str_printfa(rec, "(%s)", a->cmd->name);
		/* CAPA and STLS (refused without TLS) answer and are done */
		drive->bad_counter = 0;
		break;
	case KPOP_ACTION_BEGIN_AUTH:
		str_printfa(rec, "(ap-req=%zu)", drive->fsm.parser.ap_req->used);
		break;
	case KPOP_ACTION_AUTH_RESPOND:
		/* the USER name as text, AP-REQ chunks by their size */
		for (i = 0; i < a->data_size; i++) {
			if (a->data[i] < 0x20 || a->data[i] > 0x7e)
				break;
		}
		if (i < a->data_size)
			str_printfa(rec, "(%zu bytes)", a->data_size);
		else
			str_printfa(rec, "(%.*s)", (int)a->data_size,
				    (const char *)a->data);
		break;
	case KPOP_ACTION_GREET:
		str_printfa(rec, "(%zu)", a->data_size);
		break;
	case KPOP_ACTION_REJECT:
	case KPOP_ACTION_DISCONNECT:
		str_printfa(rec, "(%s)", a->reason == NULL ? "logout" :
			    a->reason);
		drive->ended = a->kind == KPOP_ACTION_DISCONNECT;
		break;
	default:
		break;
	}
	if (null_strcmp(user, drive->user) != 0) {
		str_printfa(rec, "(user=%s)", user == NULL ? "" : user);
		i_free(drive->user);
		drive->user = i_strdup(user);
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
	if (a->state_changed) {
		str_printfa(rec, "=>%s", kpop_state_name(drive->fsm.state));
		drive->state = drive->fsm.state;
	}
	str_append_c(rec, ' ');
}

/* The bytes before the POP3 lines: what kpop_session_input() does with the
   bytes buffered so far, the auth server connected; the mechanism accepts
   the ticket. */
static void kpop_fsm_drive_bytes(struct kpop_fsm_drive *drive, size_t avail)
{
	struct kpop_action a;
	size_t used;

	while (drive->pop3_start == 0 && !drive->ended) {
		kpop_fsm_input(&drive->fsm, KPOP_READ_OK,
			       drive->wire + drive->consumed,
			       avail - drive->consumed, TRUE, &used, &a);
		i_assert(used <= avail - drive->consumed);
		drive->consumed += used;
		switch (a.kind) {
		case KPOP_ACTION_READ_MORE:
			i_assert(drive->consumed == avail);
			i_assert(!a.state_changed);
			return;
		case KPOP_ACTION_READ_COMMANDS:
			/* the rest is POP3, read by lines */
			drive->pop3_start = drive->consumed;
			drive->input = test_istream_create_data(
				drive->wire + drive->pop3_start,
				drive->wire_size - drive->pop3_start);
			if (drive->max_line != 0) {
				i_stream_set_max_buffer_size(drive->input,
							     drive->max_line);
			}
			test_istream_set_size(drive->input, 0);
			return;
		case KPOP_ACTION_BEGIN_AUTH:
			kpop_fsm_drive_record(drive, &a);
			/* the mechanism accepts */
			kpop_fsm_challenge(&drive->fsm, kpop_fsm_drive_accept,
					   sizeof(kpop_fsm_drive_accept), &a);
			kpop_fsm_drive_record(drive, &a);
			break;
		default:
			kpop_fsm_drive_record(drive, &a);
			break;
		}
	}
}

/* The command loop of the KPOP port (kpop_session_commands()) over the
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
		while (drive->fsm.state == KPOP_STATE_COMMANDS &&
		       !drive->ended) {
			ret = pop3_line_read(drive->input, &line);
			kpop_fsm_command(&drive->fsm, ret, line,
					 &drive->bad_counter, &a);
			if (a.kind != KPOP_ACTION_READ_MORE) {
				kpop_fsm_drive_record(drive, &a);
				if (a.kind == KPOP_ACTION_CONTINUE ||
				    a.kind == KPOP_ACTION_RUN_COMMAND)
					continue;
				break;
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
	} while (nread > 0 && drive->fsm.state == KPOP_STATE_COMMANDS &&
		 !drive->ended);
}

void kpop_fsm_drive_feed(struct kpop_fsm_drive *drive, size_t avail)
{
	i_assert(avail <= drive->wire_size);
	if (drive->ended)
		return;
	if (drive->pop3_start == 0)
		kpop_fsm_drive_bytes(drive, avail);
	if (drive->pop3_start != 0)
		kpop_fsm_drive_lines(drive, avail);
}
