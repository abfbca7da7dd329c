/* SPDX-License-Identifier: LGPL-2.1-only */
/* The KPOP state machine of altpop-kpop-login (see kpop-fsm.h): every
   event goes in here, one action comes out; kpop-session.c carries the
   actions out. */

#include "lib.h"
#include "buffer.h"
#include "str-sanitize.h"
#include "kpop-limits.h"
#include "kpop-services.h"
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

#define KPOP_MECH_MISSING_ERROR \
	"KPOP connection refused: the auth process does not offer the " \
	"KPOP mechanism: add kpop to auth_mechanisms (libmech_kpop.so must " \
	"be in the auth module directory)"

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
	/* closed on the next input */
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

void kpop_fsm_init(struct kpop_fsm *fsm, size_t max_ap_req_size,
		   const char *services, unsigned int max_bad_commands)
{
	i_zero(fsm);
	fsm->state = KPOP_STATE_SENDAUTH;
	fsm->services = i_strdup(services);
	fsm->max_bad_commands = max_bad_commands;
	sendauth_parser_init(&fsm->parser, default_pool, max_ap_req_size);
}

void kpop_fsm_deinit(struct kpop_fsm *fsm)
{
	/* wipes an AP-REQ that is still there */
	sendauth_parser_deinit(&fsm->parser);
	i_free(fsm->services);
	i_free(fsm->user);
	i_free(fsm->failure);
}

static void kpop_action_init(struct kpop_action *action_r,
			     enum kpop_action_kind kind)
{
	i_zero(action_r);
	action_r->kind = kind;
}

/* The one place that changes the state. */
static void kpop_fsm_enter(struct kpop_fsm *fsm, enum kpop_state state,
			   struct kpop_action *action)
{
	if (fsm->state == state)
		return;
	fsm->state = state;
	action->state_changed = TRUE;
	action->timeout_msecs = kpop_state_timeout_msecs(state);
}

static void kpop_fsm_set_failure(struct kpop_fsm *fsm, const char *failure)
{
	i_free(fsm->failure);
	fsm->failure = i_strdup(failure);
}

/* The auth side broke the exchange: keep the reason, end the connection
   on the next input (which login-common delivers right after its SASL
   callback, never inside it). */
static void kpop_fsm_fail(struct kpop_fsm *fsm, struct kpop_action *action,
			  const char *reason)
{
	action->kind = KPOP_ACTION_READ_MORE;
	kpop_fsm_set_failure(fsm, reason);
	kpop_fsm_enter(fsm, KPOP_STATE_FAILED, action);
}

/* Why a connection ends that is past the ticket or failed. */
static const char *kpop_fsm_end_reason(const struct kpop_fsm *fsm)
{
	if (fsm->state == KPOP_STATE_REJECTED)
		return t_strdup_printf("ticket rejected: %s", fsm->failure);
	return fsm->failure != NULL ? fsm->failure : "connection closed";
}

static void kpop_fsm_disconnect(struct kpop_action *action,
				const char *reason)
{
	action->kind = KPOP_ACTION_DISCONNECT;
	action->reason = reason;
}

void kpop_fsm_start(struct kpop_fsm *fsm, bool mech_available,
		    struct kpop_action *action_r)
{
	kpop_action_init(action_r, KPOP_ACTION_READ_MORE);
	if (!mech_available) {
		action_r->log_error = KPOP_MECH_MISSING_ERROR;
		kpop_fsm_disconnect(action_r, "KPOP mechanism not available");
		return;
	}
	/* the client speaks first: no greeting until the ticket is good */
	fsm->state = KPOP_STATE_SENDAUTH;
	action_r->state_changed = TRUE;
	action_r->timeout_msecs =
		kpop_state_timeout_msecs(KPOP_STATE_SENDAUTH);
}

/* -------------------------------------------------------------------- */
/* the client's bytes */

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

/* The AP-REQ is complete and the auth server is there: the services list
   and the first chunk go to the mechanism. */
static void kpop_fsm_begin_auth(struct kpop_fsm *fsm,
				struct kpop_action *action)
{
	const buffer_t *ap_req = fsm->parser.ap_req;
	buffer_t *initial;

	initial = t_buffer_create(KPOP_MECH_INITIAL_HEADER_SIZE +
				  strlen(fsm->services) + 2 +
				  I_MIN(ap_req->used, KPOP_MECH_CHUNK_SIZE));
	/* the services tickets may be for (see kpop-services.h) */
	buffer_append_c(initial, KPOP_SERVICES_MARK);
	buffer_append(initial, fsm->services, strlen(fsm->services) + 1);
	fsm->ap_req_sent = kpop_mech_initial_append(initial, ap_req->data,
						    ap_req->used);
	action->kind = KPOP_ACTION_BEGIN_AUTH;
	action->secret = buffer_get_modifiable_data(initial, NULL);
	action->data = action->secret;
	action->data_size = initial->used;
	kpop_fsm_enter(fsm, KPOP_STATE_VERIFYING, action);
}

static void kpop_fsm_ap_req_ready(struct kpop_fsm *fsm, bool auth_connected,
				  struct kpop_action *action)
{
	if (auth_connected) {
		kpop_fsm_begin_auth(fsm, action);
		return;
	}
	/* the rest of the input is POP3: it stays buffered */
	action->kind = KPOP_ACTION_WAIT_AUTH;
	kpop_fsm_enter(fsm, KPOP_STATE_WAIT_AUTH, action);
}

static void kpop_fsm_sendauth(struct kpop_fsm *fsm, enum kpop_read read,
			      const unsigned char *data, size_t size,
			      bool auth_connected, size_t *consumed_r,
			      struct kpop_action *action)
{
	/* a Kerberos IV client cannot parse anything we could say; a human
	   testing the port with telnet can */
	static char krb4_notice[256];
	struct sendauth_parser *parser = &fsm->parser;

	switch (read) {
	case KPOP_READ_EOF:
		kpop_fsm_disconnect(action, t_strdup_printf(
			"client disconnected %s",
			sendauth_parser_describe_state(parser)));
		return;
	case KPOP_READ_FULL:
		/* cannot happen: everything is consumed in this phase */
		kpop_fsm_disconnect(action, "input buffer full");
		return;
	case KPOP_READ_OK:
		break;
	}

	switch (sendauth_parser_feed(parser, data, size, consumed_r)) {
	case SENDAUTH_RESULT_MORE:
		return;
	case SENDAUTH_RESULT_VERSIONS:
		action->verdict = (unsigned char)parser->verdict;
		action->raw = &action->verdict;
		action->raw_size = 1;
		if (parser->verdict != SENDAUTH_VERDICT_OK) {
			kpop_fsm_disconnect(action,
					    kpop_versions_refusal(parser));
			return;
		}
		/* the session writes the byte before it feeds more */
		sendauth_parser_verdict_sent(parser);
		action->kind = KPOP_ACTION_CONTINUE;
		return;
	case SENDAUTH_RESULT_AP_REQ:
		kpop_fsm_ap_req_ready(fsm, auth_connected, action);
		return;
	case SENDAUTH_RESULT_ERROR:
		if (parser->error == SENDAUTH_ERROR_KRB4) {
			/* KPOP_LANG is fixed: the text is the same for
			   every session */
			if (krb4_notice[0] == '\0') {
				i_snprintf(krb4_notice, sizeof(krb4_notice),
					   "-ERR [SYS/PERM] %s\r\n", KPOP_TEXT(
					   POP3_MSG_KPOP_KRB4_UNSUPPORTED));
			}
			action->raw = krb4_notice;
			action->raw_size = strlen(krb4_notice);
		}
		kpop_fsm_disconnect(action, sendauth_error_str(parser));
		return;
	}
	i_unreached();
}

/* Input while the machine waits for the auth side: dropped (a readable
   socket must not spin); the client's end ends the connection. */
static void kpop_fsm_drain(struct kpop_fsm *fsm, enum kpop_read read,
			   size_t size, size_t *consumed_r,
			   struct kpop_action *action)
{
	if (read != KPOP_READ_OK || fsm->state == KPOP_STATE_FAILED) {
		kpop_fsm_disconnect(action, kpop_fsm_end_reason(fsm));
		return;
	}
	*consumed_r = size;
}

/* The mechanism's next AP-REQ chunk. */
static void kpop_fsm_next_chunk(struct kpop_fsm *fsm,
				struct kpop_action *action)
{
	const buffer_t *ap_req = fsm->parser.ap_req;
	size_t chunk = I_MIN(ap_req->used - fsm->ap_req_sent,
			     KPOP_MECH_CHUNK_SIZE);

	fsm->chunk_due = FALSE;
	action->kind = KPOP_ACTION_AUTH_RESPOND;
	action->data = CONST_PTR_OFFSET(ap_req->data, fsm->ap_req_sent);
	action->data_size = chunk;
	fsm->ap_req_sent += chunk;
}

void kpop_fsm_input(struct kpop_fsm *fsm, enum kpop_read read,
		    const unsigned char *data, size_t size,
		    bool auth_connected, size_t *consumed_r,
		    struct kpop_action *action_r)
{
	kpop_action_init(action_r, KPOP_ACTION_READ_MORE);
	*consumed_r = 0;

	switch (fsm->state) {
	case KPOP_STATE_SENDAUTH:
		kpop_fsm_sendauth(fsm, read, data, size, auth_connected,
				  consumed_r, action_r);
		return;
	case KPOP_STATE_WAIT_AUTH:
		if (read == KPOP_READ_EOF) {
			kpop_fsm_disconnect(action_r, "client disconnected "
				"while waiting for the auth server");
		} else if (read == KPOP_READ_FULL) {
			kpop_fsm_disconnect(action_r, "too much input while "
				"waiting for the auth server");
		} else {
			kpop_fsm_ap_req_ready(fsm, auth_connected, action_r);
		}
		return;
	case KPOP_STATE_VERIFYING:
		if (fsm->chunk_due) {
			kpop_fsm_next_chunk(fsm, action_r);
			return;
		}
		break;
	case KPOP_STATE_COMMANDS:
		/* the session's line reader handles the end of the input
		   as login-common does (client_read()) */
		action_r->kind = KPOP_ACTION_READ_COMMANDS;
		return;
	case KPOP_STATE_REJECTED:
		if (fsm->reject_ack_due) {
			/* acknowledge; the failure reply follows after
			   Dovecot's failure delay */
			fsm->reject_ack_due = FALSE;
			action_r->kind = KPOP_ACTION_AUTH_RESPOND;
			return;
		}
		break;
	case KPOP_STATE_LOGGING_IN:
	case KPOP_STATE_FAILED:
		break;
	}
	kpop_fsm_drain(fsm, read, size, consumed_r, action_r);
}

/* -------------------------------------------------------------------- */
/* the mechanism's challenge */

void kpop_fsm_challenge(struct kpop_fsm *fsm, const unsigned char *msg,
			size_t size, struct kpop_action *action_r)
{
	const char *reason;
	size_t ap_req_size;

	kpop_action_init(action_r, KPOP_ACTION_READ_MORE);
	if (msg == NULL || size == 0) {
		action_r->log_error = "KPOP: invalid reply from the KPOP "
			"authentication mechanism";
		kpop_fsm_fail(fsm, action_r,
			      "invalid reply from the auth process");
		return;
	}
	if (fsm->state != KPOP_STATE_VERIFYING) {
		action_r->log_error = t_strdup_printf(
			"KPOP: unexpected reply from the KPOP authentication "
			"mechanism in state %s", kpop_state_name(fsm->state));
		kpop_fsm_fail(fsm, action_r,
			      "unexpected reply from the auth process");
		return;
	}

	switch (msg[0]) {
	case KPOP_MECH_CHALLENGE_MORE:
		ap_req_size = fsm->parser.ap_req == NULL ? 0 :
			fsm->parser.ap_req->used;
		if (fsm->ap_req_sent >= ap_req_size) {
			kpop_fsm_fail(fsm, action_r, "auth process asked for "
				      "more AP-REQ data than there is");
			return;
		}
		/* sent from login-common's SASL input callback, which
		   follows right away */
		fsm->chunk_due = TRUE;
		return;
	case KPOP_MECH_CHALLENGE_ACCEPTED:
		/* the ticket is used up: wipe it */
		sendauth_parser_deinit(&fsm->parser);
		action_r->kind = KPOP_ACTION_GREET;
		action_r->data = msg + 1;
		action_r->data_size = size - 1;
		fsm->greeted = TRUE;
		kpop_fsm_enter(fsm, KPOP_STATE_COMMANDS, action_r);
		return;
	case KPOP_MECH_CHALLENGE_REJECTED:
		if (kpop_mech_rejected_parse(msg + 1, size - 1, &reason,
					     &action_r->data,
					     &action_r->data_size) < 0) {
			kpop_fsm_fail(fsm, action_r, "malformed rejection "
				      "from the auth process");
			return;
		}
		sendauth_parser_deinit(&fsm->parser);
		action_r->kind = KPOP_ACTION_REJECT;
		kpop_fsm_set_failure(fsm, str_sanitize(
			reason, KPOP_MAX_REASON_LOG_LEN));
		action_r->reason = fsm->failure;
		fsm->reject_ack_due = TRUE;
		kpop_fsm_enter(fsm, KPOP_STATE_REJECTED, action_r);
		return;
	default:
		kpop_fsm_fail(fsm, action_r,
			      "unknown reply from the auth process");
		return;
	}
}

/* -------------------------------------------------------------------- */
/* POP3 commands until PASS */

static void kpop_fsm_user(struct kpop_fsm *fsm, const char *args,
			  struct kpop_action *action)
{
	action->reply = KPOP_REPLY_ERROR;
	if (args[0] == '\0') {
		action->reply_text = KPOP_TEXT(POP3_MSG_USER_NEEDS_NAME);
		return;
	}
	if (strlen(args) > KPOP_MAX_USER_LEN || strchr(args, ' ') != NULL) {
		action->reply_text = KPOP_TEXT(POP3_MSG_KPOP_INVALID_USER);
		return;
	}
	i_free(fsm->user);
	fsm->user = i_strdup(args);
	action->reply = KPOP_REPLY_OK;
	action->reply_text = KPOP_TEXT(POP3_MSG_KPOP_SEND_PASS);
}

static const struct kpop_command kpop_commands[] = {
	{ "CAPA", KPOP_COMMAND_CAPA, 0 },
	{ "USER", KPOP_COMMAND_USER, 0 },
	{ "PASS", KPOP_COMMAND_PASS, 0 },
	{ "STLS", KPOP_COMMAND_STLS, 0 },
	{ "QUIT", KPOP_COMMAND_QUIT, 0 },
	{ "AUTH", KPOP_COMMAND_REFUSED, POP3_MSG_KPOP_PORT_REFUSAL },
	{ "APOP", KPOP_COMMAND_REFUSED, POP3_MSG_KPOP_PORT_REFUSAL },
};

static const struct kpop_command *kpop_command_find(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(kpop_commands); i++) {
		if (strcmp(kpop_commands[i].name, name) == 0)
			return &kpop_commands[i];
	}
	return NULL;
}

static void
kpop_fsm_bad_command(struct kpop_fsm *fsm, const char *error,
		     unsigned int *bad_counter, struct kpop_action *action)
{
	action->reply = KPOP_REPLY_ERROR;
	action->reply_text = error;
	if (login_cmd_count_bad(bad_counter, fsm->max_bad_commands)) {
		kpop_fsm_disconnect(action, "too many bad commands");
		action->too_many_bad = TRUE;
	}
}

void kpop_fsm_command(struct kpop_fsm *fsm,
		      enum pop3_line_read_result read_result,
		      const char *line, unsigned int *bad_counter,
		      struct kpop_action *action_r)
{
	const struct kpop_command *cmd;
	const char *name, *args, *error;

	i_assert(fsm->state == KPOP_STATE_COMMANDS);
	kpop_action_init(action_r, KPOP_ACTION_CONTINUE);
	switch (login_cmd_line_step(KPOP_LANG, read_result, line,
				    &name, &args, &error)) {
	case LOGIN_CMD_STEP_MORE:
		action_r->kind = KPOP_ACTION_READ_MORE;
		return;
	case LOGIN_CMD_STEP_BAD:
		kpop_fsm_bad_command(fsm, error, bad_counter, action_r);
		return;
	case LOGIN_CMD_STEP_COMMAND:
		break;
	}
	cmd = kpop_command_find(name);
	if (cmd == NULL) {
		kpop_fsm_bad_command(fsm,
			KPOP_TEXT(POP3_MSG_KPOP_UNKNOWN_COMMAND),
			bad_counter, action_r);
		return;
	}

	switch (cmd->kind) {
	case KPOP_COMMAND_USER:
		kpop_fsm_user(fsm, args, action_r);
		break;
	case KPOP_COMMAND_PASS:
		/* the argument is not a password: fetchmail sends
		   "krb_ticket", others the user name */
		if (fsm->user == NULL) {
			action_r->reply = KPOP_REPLY_ERROR;
			action_r->reply_text =
				KPOP_TEXT(POP3_MSG_NO_USERNAME);
			break;
		}
		/* pipelined commands after PASS stay in the stream for the
		   post-login process */
		action_r->kind = KPOP_ACTION_AUTH_RESPOND;
		action_r->data = (const unsigned char *)fsm->user;
		action_r->data_size = strlen(fsm->user);
		kpop_fsm_enter(fsm, KPOP_STATE_LOGGING_IN, action_r);
		return;
	case KPOP_COMMAND_QUIT:
		kpop_fsm_disconnect(action_r, NULL);
		action_r->reply = KPOP_REPLY_OK;
		action_r->reply_text =
			KPOP_TEXT(POP3_MSG_LOGIN_LOGGING_OUT);
		return;
	case KPOP_COMMAND_REFUSED:
		kpop_fsm_bad_command(fsm, KPOP_TEXT(cmd->refusal),
				     bad_counter, action_r);
		return;
	case KPOP_COMMAND_STLS:
		/* forget everything said in plaintext */
		i_free_and_null(fsm->user);
		/* fall through */
	case KPOP_COMMAND_CAPA:
		/* CAPA, STLS: the login process runs them (and ends the run
		   of bad commands when they are done) */
		action_r->kind = KPOP_ACTION_RUN_COMMAND;
		action_r->cmd = cmd;
		action_r->args = args;
		return;
	}
	/* a command that ran ends the run of bad commands */
	*bad_counter = 0;
}

void kpop_fsm_tls_started(struct kpop_fsm *fsm)
{
	i_free_and_null(fsm->user);
}

/* -------------------------------------------------------------------- */
/* the login result, timeouts */

void kpop_fsm_auth_result(struct kpop_fsm *fsm, bool success,
			  bool mech_invalid, const char *text,
			  struct kpop_action *action_r)
{
	kpop_action_init(action_r, KPOP_ACTION_DISCONNECT);
	switch (fsm->state) {
	case KPOP_STATE_COMMANDS:
	case KPOP_STATE_LOGGING_IN:
		/* the POP3 greeting is out: answer in POP3 */
		action_r->kind = KPOP_ACTION_LOGIN_RESULT;
		if (!success) {
			/* the ticket is spent: no second try on this
			   connection */
			action_r->reason = t_strdup_printf("login failed: %s",
				text != NULL ? text : "authentication failed");
		}
		return;
	case KPOP_STATE_REJECTED:
		action_r->reason = kpop_fsm_end_reason(fsm);
		return;
	case KPOP_STATE_SENDAUTH:
	case KPOP_STATE_WAIT_AUTH:
	case KPOP_STATE_VERIFYING:
	case KPOP_STATE_FAILED:
		break;
	}
	/* no greeting yet: nothing POP3 can be said to a sendauth client */
	if (mech_invalid)
		action_r->log_error = "KPOP: the auth process does not offer "
			"the KPOP mechanism: add kpop to auth_mechanisms "
			"(libmech_kpop.so must be in the auth module "
			"directory)";
	action_r->reason = fsm->failure != NULL ? fsm->failure :
		t_strdup_printf("authentication failed before the greeting "
				"(%s)", text != NULL ? text : "no reason given");
}

void kpop_fsm_timeout(struct kpop_fsm *fsm, struct kpop_action *action_r)
{
	kpop_action_init(action_r, KPOP_ACTION_DISCONNECT);
	switch (fsm->state) {
	case KPOP_STATE_SENDAUTH:
		action_r->reason = t_strdup_printf("timed out %s",
			sendauth_parser_describe_state(&fsm->parser));
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
		action_r->reply_text =
			KPOP_TEXT(POP3_MSG_KPOP_LOGIN_TIMEOUT);
		action_r->reason = "timed out waiting for the login result";
		break;
	case KPOP_STATE_REJECTED:
		action_r->reason = kpop_fsm_end_reason(fsm);
		break;
	case KPOP_STATE_FAILED:
		action_r->reason = fsm->failure != NULL ? fsm->failure :
			"failed";
		break;
	}
}

bool kpop_fsm_speaks_pop3(const struct kpop_fsm *fsm)
{
	return fsm->greeted;
}
