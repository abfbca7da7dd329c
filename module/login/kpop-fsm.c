/* SPDX-License-Identifier: LGPL-2.1-only */
/* The KPOP state machine of altpop-login: pure transitions (see
   kpop-fsm.h); login-kpop*.c apply them. */

#include "lib.h"
#include "buffer.h"
#include "str-sanitize.h"
#include "kpop-limits.h"
#include "kpop-mech-msg.h"
#include "kpop-fsm.h"

/* From connect until the complete AP-REQ. */
#define KPOP_SENDAUTH_TIMEOUT_MSECS (30 * 1000)
/* Waiting for the auth process to judge the ticket (includes Dovecot's
   failure delay and auth penalty, at most 15 s). */
#define KPOP_VERIFY_TIMEOUT_MSECS (60 * 1000)
/* From the greeting until PASS. */
#define KPOP_COMMAND_TIMEOUT_MSECS (60 * 1000)
/* From PASS until the login result. */
#define KPOP_LOGIN_TIMEOUT_MSECS (60 * 1000)
/* Longest rejection reason from the auth process kept for the log. */
#define KPOP_MAX_REASON_LOG_LEN 256

/* Every KPOP state with its name for log lines and the timeout that starts
   when it is entered (0: the running timeout goes on). */
static const struct {
	const char *name;
	unsigned int timeout_msecs;
} kpop_states[KPOP_STATE_COUNT] = {
	[KPOP_STATE_SENDAUTH] = { "sendauth", KPOP_SENDAUTH_TIMEOUT_MSECS },
	/* still bounded by the sendauth timeout */
	[KPOP_STATE_WAIT_AUTH] = { "waiting for the auth server", 0 },
	[KPOP_STATE_VERIFYING] = { "ticket verification",
				   KPOP_VERIFY_TIMEOUT_MSECS },
	[KPOP_STATE_COMMANDS] = { "USER/PASS", KPOP_COMMAND_TIMEOUT_MSECS },
	[KPOP_STATE_LOGGING_IN] = { "login", KPOP_LOGIN_TIMEOUT_MSECS },
	/* the failure reply follows after Dovecot's failure delay */
	[KPOP_STATE_REJECTED] = { "ticket rejected", KPOP_VERIFY_TIMEOUT_MSECS },
	/* destroyed on the next input callback */
	[KPOP_STATE_FAILED] = { "failed", 0 },
};

const char *kpop_state_name(enum kpop_state state)
{
	i_assert(state < N_ELEMENTS(kpop_states));
	return kpop_states[state].name;
}

unsigned int kpop_state_timeout_msecs(enum kpop_state state)
{
	i_assert(state < N_ELEMENTS(kpop_states));
	return kpop_states[state].timeout_msecs;
}

static void kpop_action_init(struct kpop_action *action_r,
			     enum kpop_state state,
			     enum kpop_action_kind kind)
{
	i_zero(action_r);
	action_r->kind = kind;
	action_r->next_state = state;
}

static void kpop_action_fail(struct kpop_action *action_r, const char *reason)
{
	action_r->kind = KPOP_ACTION_FAIL;
	action_r->next_state = KPOP_STATE_FAILED;
	action_r->reason = reason;
}

/* -------------------------------------------------------------------- */
/* sendauth */

static const char *kpop_versions_refusal(const struct sendauth_parser *parser)
{
	if (parser->verdict == SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION) {
		return t_strdup_printf("unsupported sendauth version \"%s\" "
				       "(expected \"%s\")",
				       parser->sendauth_version,
				       SENDAUTH_VERSION);
	}
	return t_strdup_printf("unsupported application version \"%s\" "
			       "(expected \"%s\")", parser->appl_version,
			       KPOP_APPL_VERSION);
}

void kpop_fsm_sendauth(struct sendauth_parser *parser,
		       const unsigned char *data, size_t size,
		       size_t *consumed_r, struct kpop_action *action_r)
{
	/* a Kerberos IV client cannot parse anything we could say; a human
	   testing the port with telnet can */
	static const char krb4_notice[] = "-ERR [SYS/PERM] Kerberos IV KPOP "
		"is not supported, use Kerberos V5.\r\n";

	kpop_action_init(action_r, KPOP_STATE_SENDAUTH, KPOP_ACTION_READ_MORE);
	switch (sendauth_parser_feed(parser, data, size, consumed_r)) {
	case SENDAUTH_RESULT_MORE:
		return;
	case SENDAUTH_RESULT_VERSIONS:
		action_r->verdict = (unsigned char)parser->verdict;
		action_r->raw = &action_r->verdict;
		action_r->raw_size = 1;
		if (parser->verdict != SENDAUTH_VERDICT_OK) {
			action_r->kind = KPOP_ACTION_DISCONNECT;
			action_r->reason = kpop_versions_refusal(parser);
			return;
		}
		/* the caller writes the byte before it feeds more */
		sendauth_parser_verdict_sent(parser);
		action_r->kind = KPOP_ACTION_CONTINUE;
		return;
	case SENDAUTH_RESULT_AP_REQ:
		/* the rest of the input is POP3, left in the stream */
		action_r->kind = KPOP_ACTION_BEGIN_AUTH;
		return;
	case SENDAUTH_RESULT_ERROR:
		action_r->kind = KPOP_ACTION_DISCONNECT;
		if (parser->error == SENDAUTH_ERROR_KRB4) {
			action_r->raw = krb4_notice;
			action_r->raw_size = sizeof(krb4_notice) - 1;
		}
		action_r->reason = sendauth_error_str(parser);
		return;
	}
	i_unreached();
}

/* -------------------------------------------------------------------- */
/* the mechanism's challenge */

void kpop_fsm_challenge(enum kpop_state state, const unsigned char *msg,
			size_t size, size_t ap_req_sent, size_t ap_req_size,
			struct kpop_action *action_r)
{
	const char *reason;

	kpop_action_init(action_r, state, KPOP_ACTION_CONTINUE);
	if (msg == NULL || size == 0) {
		action_r->log_error = "KPOP: invalid reply from the KPOP "
			"authentication mechanism";
		kpop_action_fail(action_r, "invalid reply from the auth process");
		return;
	}
	if (state != KPOP_STATE_VERIFYING) {
		action_r->log_error = t_strdup_printf(
			"KPOP: unexpected reply from the KPOP authentication "
			"mechanism in state %s", kpop_state_name(state));
		kpop_action_fail(action_r,
				 "unexpected reply from the auth process");
		return;
	}

	switch (msg[0]) {
	case KPOP_MECH_CHALLENGE_MORE:
		if (ap_req_sent >= ap_req_size) {
			kpop_action_fail(action_r, "auth process asked for "
					 "more AP-REQ data than there is");
			return;
		}
		action_r->kind = KPOP_ACTION_SEND_MORE;
		return;
	case KPOP_MECH_CHALLENGE_ACCEPTED:
		action_r->kind = KPOP_ACTION_GREET;
		action_r->next_state = KPOP_STATE_COMMANDS;
		action_r->data = msg + 1;
		action_r->data_size = size - 1;
		return;
	case KPOP_MECH_CHALLENGE_REJECTED:
		if (kpop_mech_rejected_parse(msg + 1, size - 1, &reason,
					     &action_r->data,
					     &action_r->data_size) < 0) {
			kpop_action_fail(action_r, "malformed rejection from "
					 "the auth process");
			return;
		}
		action_r->kind = KPOP_ACTION_REJECT;
		action_r->next_state = KPOP_STATE_REJECTED;
		action_r->reason = str_sanitize(reason,
						KPOP_MAX_REASON_LOG_LEN);
		return;
	default:
		kpop_action_fail(action_r, "unknown reply from the auth process");
		return;
	}
}

/* -------------------------------------------------------------------- */
/* POP3 commands until PASS */

static void kpop_fsm_user(const char *args, struct kpop_action *action_r)
{
	action_r->reply = KPOP_REPLY_ERROR;
	if (args[0] == '\0') {
		action_r->reply_text = KPOP_TEXT(POP3_MSG_USER_NEEDS_NAME);
		return;
	}
	if (strlen(args) > KPOP_MAX_USER_LEN || strchr(args, ' ') != NULL) {
		action_r->reply_text = "Invalid user name.";
		return;
	}
	action_r->kind = KPOP_ACTION_SET_USER;
	action_r->args = args;
	action_r->reply = KPOP_REPLY_OK;
	action_r->reply_text =
		"Send PASS (any text) to log in with your Kerberos ticket.";
}

void kpop_fsm_command(enum kpop_state state,
		      enum pop3_line_read_result read_result, const char *line,
		      bool have_user, unsigned int *bad_counter,
		      unsigned int max_bad, struct kpop_action *action_r)
{
	const struct login_command_def *cmd;
	const char *args, *error;

	i_assert(state == KPOP_STATE_COMMANDS);
	kpop_action_init(action_r, state, KPOP_ACTION_CONTINUE);
	switch (login_cmd_line_step(LOGIN_CMD_STATE_KPOP, KPOP_LANG,
				    read_result, line, &cmd, &args, &error)) {
	case LOGIN_CMD_STEP_MORE:
		action_r->kind = KPOP_ACTION_READ_MORE;
		return;
	case LOGIN_CMD_STEP_BAD:
		action_r->reply = KPOP_REPLY_ERROR;
		action_r->reply_text = error;
		if (login_cmd_count_bad(bad_counter, max_bad)) {
			action_r->kind = KPOP_ACTION_DISCONNECT;
			action_r->too_many_bad = TRUE;
			action_r->reason = "too many bad commands";
		}
		return;
	case LOGIN_CMD_STEP_RUN:
		break;
	}

	switch (cmd->id) {
	case LOGIN_CMD_KPOP_USER:
		kpop_fsm_user(args, action_r);
		break;
	case LOGIN_CMD_KPOP_PASS:
		/* the argument is not a password: fetchmail sends
		   "krb_ticket", others the user name */
		if (!have_user) {
			action_r->reply = KPOP_REPLY_ERROR;
			action_r->reply_text =
				KPOP_TEXT(POP3_MSG_NO_USERNAME);
			break;
		}
		action_r->kind = KPOP_ACTION_SEND_USER;
		action_r->next_state = KPOP_STATE_LOGGING_IN;
		return;
	case LOGIN_CMD_KPOP_QUIT:
		action_r->kind = KPOP_ACTION_DISCONNECT;
		action_r->reply = KPOP_REPLY_OK;
		action_r->reply_text =
			KPOP_TEXT(POP3_MSG_LOGIN_LOGGING_OUT);
		return;
	default:
		/* CAPA, STLS: the login process runs them (and ends the run
		   of bad commands when they are done) */
		action_r->kind = KPOP_ACTION_RUN_COMMAND;
		action_r->cmd = cmd;
		action_r->args = args;
		return;
	}
	/* a command the table ran ends the run of bad commands */
	*bad_counter = 0;
}

/* -------------------------------------------------------------------- */
/* timeouts and the end */

const char *kpop_fsm_end_reason(enum kpop_state state, const char *failure)
{
	if (state == KPOP_STATE_REJECTED)
		return t_strdup_printf("ticket rejected: %s", failure);
	return failure != NULL ? failure : "connection closed";
}

void kpop_fsm_timeout(enum kpop_state state,
		      const struct sendauth_parser *parser,
		      const char *failure, struct kpop_action *action_r)
{
	kpop_action_init(action_r, state, KPOP_ACTION_DISCONNECT);
	switch (state) {
	case KPOP_STATE_SENDAUTH:
		action_r->reason = t_strdup_printf("timed out %s",
			sendauth_parser_describe_state(parser));
		break;
	case KPOP_STATE_WAIT_AUTH:
		action_r->reason =
			"timed out waiting for the auth server connection";
		break;
	case KPOP_STATE_VERIFYING:
		action_r->reason = "timed out waiting for the auth process "
			"to verify the ticket";
		break;
	case KPOP_STATE_COMMANDS:
		action_r->reply = KPOP_REPLY_ERROR;
		action_r->reply_text = KPOP_TEXT(POP3_MSG_IDLE_DISCONNECT);
		action_r->reason = "timed out waiting for USER/PASS";
		break;
	case KPOP_STATE_LOGGING_IN:
		action_r->reply = KPOP_REPLY_TEMPFAIL;
		action_r->reply_text = "Timed out waiting for the login result.";
		action_r->reason = "timed out waiting for the login result";
		break;
	case KPOP_STATE_REJECTED:
	case KPOP_STATE_FAILED:
		action_r->reason = state == KPOP_STATE_REJECTED ?
			kpop_fsm_end_reason(state, failure) :
			failure != NULL ? failure : "failed";
		break;
	}
}
