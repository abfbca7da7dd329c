/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP (Kerberos V5 POP, port 1109) in altpop-login.

   One non-blocking state machine per connection on the kpop listener:

   SENDAUTH    read "KRB5_SENDAUTH_V1.0" and "KPOPV1.0", answer the verdict
               byte, read the AP-REQ into a buffer of its own
   WAIT_AUTH   AP-REQ complete, waiting for the auth server connection
   VERIFYING   the private KPOP mechanism (auth process) checks the ticket;
               large AP-REQs go in chunks
   COMMANDS    ticket accepted: 00000000, [AP-REP], +OK greeting written;
               CAPA, STLS, USER, PASS and QUIT are served here because the
               SASL exchange is still open (login-common's own command
               input is off while client->authenticating)
   LOGGING_IN  PASS seen: the USER name went to the mechanism
   REJECTED    the ticket was refused, the KRB-ERROR is written, the
               failure reply is due
   FAILED      protocol error from the auth side, close on next input

   This process never sees the keytab and never calls krb5_recvauth():
   it only frames bytes. Bytes pipelined behind the AP-REQ stay in the
   input stream and are handled after the greeting (or passed on to the
   post-login process behind PASS).

   The transitions themselves (state + input -> action and next state)
   are pure, in kpop-fsm.c. This file applies them (kpop_apply(),
   kpop_enter_state()), runs the timeouts, the vfunc takeover and the
   command loop of the KPOP port; the sendauth phase is in
   login-kpop-sendauth.c, the glue to the auth mechanism in
   login-kpop-auth.c (see login-kpop.h). */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "kpop-mech-msg.h"
#include "pop3-line-reader.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "login-kpop.h"

static void kpop_timeout(struct kpop_client *kpop);

struct kpop_client *kpop_client_get(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	i_assert(aclient->kpop != NULL);
	return aclient->kpop;
}

/* The one place that changes the KPOP state: sets the state's timeout and
   logs the transition. */
void kpop_enter_state(struct kpop_client *kpop, enum kpop_state state)
{
	unsigned int msecs;

	if (kpop->to == NULL) {
		/* the first state (the struct starts zeroed) */
		e_debug(kpop->client->event, "KPOP: state %s",
			kpop_state_name(state));
	} else if (kpop->state != state) {
		e_debug(kpop->client->event, "KPOP: state %s -> %s",
			kpop_state_name(kpop->state), kpop_state_name(state));
	}
	kpop->state = state;
	msecs = kpop_state_timeout_msecs(state);
	if (msecs != 0) {
		timeout_remove(&kpop->to);
		kpop->to = timeout_add(msecs, kpop_timeout, kpop);
	}
}

void kpop_destroy(struct kpop_client *kpop, const char *reason)
{
	client_destroy(kpop->client, t_strconcat("KPOP: ", reason, NULL));
}

static enum altpop_reply kpop_reply_kind(enum kpop_reply reply)
{
	switch (reply) {
	case KPOP_REPLY_OK:
		return ALTPOP_REPLY_OK;
	case KPOP_REPLY_ERROR:
		return ALTPOP_REPLY_ERROR;
	case KPOP_REPLY_TEMPFAIL:
		return ALTPOP_REPLY_TEMPFAIL;
	case KPOP_REPLY_NONE:
		break;
	}
	i_unreached();
}

bool kpop_apply(struct kpop_client *kpop, const struct kpop_action *action)
{
	struct client *client = kpop->client;

	if (action->log_error != NULL)
		e_error(client->event, "%s", action->log_error);
	if (action->next_state != kpop->state)
		kpop_enter_state(kpop, action->next_state);
	if (action->raw_size > 0)
		client_send_raw_data(client, action->raw, action->raw_size);
	if (action->reply != KPOP_REPLY_NONE) {
		altpop_login_reply(client, kpop_reply_kind(action->reply),
				   action->reply_text);
	}

	switch (action->kind) {
	case KPOP_ACTION_READ_MORE:
		return FALSE;
	case KPOP_ACTION_CONTINUE:
		return TRUE;
	case KPOP_ACTION_BEGIN_AUTH:
		kpop_begin_auth(kpop);
		return FALSE;
	case KPOP_ACTION_RUN_COMMAND:
		return altpop_login_run_command(
			container_of(client, struct altpop_login_client,
				     common), action->cmd, action->args);
	case KPOP_ACTION_SET_USER:
		i_free(kpop->user);
		kpop->user = i_strdup(action->args);
		return TRUE;
	case KPOP_ACTION_SEND_USER:
		kpop_send_user(kpop);
		return FALSE;
	case KPOP_ACTION_SEND_MORE:
		kpop->send_more = TRUE;
		return FALSE;
	case KPOP_ACTION_GREET:
		kpop_auth_accepted(kpop, action->data, action->data_size);
		return FALSE;
	case KPOP_ACTION_REJECT:
		kpop_auth_rejected(kpop, action);
		return FALSE;
	case KPOP_ACTION_FAIL:
		/* destroyed on the next input callback (which follows right
		   away), not inside login-common's SASL callback */
		i_free(kpop->failure);
		kpop->failure = i_strdup(action->reason);
		return FALSE;
	case KPOP_ACTION_DISCONNECT:
		if (action->too_many_bad) {
			altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				KPOP_TEXT(POP3_MSG_TOO_MANY_BAD_COMMANDS));
		}
		kpop_destroy(kpop, action->reason != NULL ? action->reason :
			     CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
		return FALSE;
	}
	i_unreached();
}

static void kpop_timeout(struct kpop_client *kpop)
{
	struct kpop_action action;

	timeout_remove(&kpop->to);
	kpop_fsm_timeout(kpop->state, &kpop->parser, kpop->failure, &action);
	(void)kpop_apply(kpop, &action);
}

/* -------------------------------------------------------------------- */
/* POP3 commands until PASS */

int altpop_kpop_cmd_stls(struct altpop_login_client *aclient,
			 const char *args ATTR_UNUSED)
{
	struct client *client = &aclient->common;
	struct kpop_client *kpop = kpop_client_get(client);
	bool starting = client_is_tls_enabled(client) &&
		!altpop_client_tls(client);

	/* forget everything said in plaintext; the TLS stream drops
	   plaintext pipelined behind STLS */
	i_free_and_null(kpop->user);
	client_cmd_starttls(client);
	/* after a refusal the next command may follow */
	return starting ? 0 : 1;
}

static bool kpop_next_command(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	enum pop3_line_read_result read_result;
	struct kpop_action action;
	const char *line;

	read_result = pop3_line_read(client->input, &line);
	if (read_result == POP3_LINE_READ_BAD_BYTES)
		e_debug(client->event, "Command line with NUL or bare CR");
	kpop_fsm_command(kpop->state, read_result, line, kpop->user != NULL,
			 &client->bad_counter,
			 aclient->set->altpop_login_max_bad_commands, &action);
	return kpop_apply(kpop, &action);
}

void kpop_commands_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;

	if (!client_read(client))
		return;
	altpop_login_glue_settings_refresh(
		container_of(client, struct altpop_login_client, common));

	client_ref(client);
	o_stream_cork(client->output);
	while (kpop->state == KPOP_STATE_COMMANDS && !client->destroyed) {
		bool cont;

		T_BEGIN {
			cont = kpop_next_command(kpop);
		} T_END;
		if (!cont)
			break;
	}
	if (!client->destroyed)
		o_stream_uncork(client->output);
	client_unref(&client);
}

/* Read and drop input while the failure reply is due. */
void kpop_drain_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	size_t size;

	if (i_stream_read(client->input) < 0 ||
	    kpop->state == KPOP_STATE_FAILED) {
		kpop_destroy(kpop, kpop_fsm_end_reason(kpop->state,
						       kpop->failure));
		return;
	}
	(void)i_stream_get_data(client->input, &size);
	i_stream_skip(client->input, size);
}

/* -------------------------------------------------------------------- */
/* vfuncs */

static void kpop_input(struct client *client)
{
	struct kpop_client *kpop = kpop_client_get(client);

	switch (kpop->state) {
	case KPOP_STATE_SENDAUTH:
		kpop_sendauth_input(kpop);
		break;
	case KPOP_STATE_WAIT_AUTH:
		/* keep reading (pipelined POP3 stays buffered) so a readable
		   socket does not spin while the auth server is away */
		switch (i_stream_read(client->input)) {
		case -1:
			kpop_destroy(kpop, "client disconnected while waiting "
				     "for the auth server");
			return;
		case -2:
			kpop_destroy(kpop, "too much input while waiting for "
				     "the auth server");
			return;
		default:
			break;
		}
		kpop_begin_auth(kpop);
		break;
	case KPOP_STATE_COMMANDS:
		/* after STLS, login-common reads through here */
		kpop_commands_input(kpop);
		break;
	case KPOP_STATE_VERIFYING:
	case KPOP_STATE_LOGGING_IN:
	case KPOP_STATE_REJECTED:
	case KPOP_STATE_FAILED:
		kpop_drain_input(kpop);
		break;
	}
}

static void
kpop_notify_disconnect(struct client *client,
		       enum client_disconnect_reason reason, const char *text)
{
	struct kpop_client *kpop = kpop_client_get(client);

	/* POP3 text only once the client reads POP3 */
	if (client->banner_sent && kpop->super.notify_disconnect != NULL)
		kpop->super.notify_disconnect(client, reason, text);
}

static void
kpop_notify_status(struct client *client, bool bad, const char *text)
{
	struct kpop_client *kpop = kpop_client_get(client);

	if (client->banner_sent && kpop->state == KPOP_STATE_COMMANDS &&
	    kpop->super.notify_status != NULL)
		kpop->super.notify_status(client, bad, text);
}

static void kpop_starttls(struct client *client)
{
	struct kpop_client *kpop = kpop_client_get(client);

	i_free_and_null(kpop->user);
	if (kpop->super.starttls != NULL)
		kpop->super.starttls(client);
}

static void kpop_client_destroy(struct client *client)
{
	struct kpop_client *kpop = kpop_client_get(client);

	timeout_remove(&kpop->to);
	sendauth_parser_deinit(&kpop->parser);
	i_free(kpop->user);
	i_free(kpop->failure);
	if (kpop->super.destroy != NULL)
		kpop->super.destroy(client);
}

void altpop_kpop_start(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	struct kpop_client *kpop;

	kpop = p_new(client->pool, struct kpop_client, 1);
	kpop->client = client;
	kpop->super = client->v;
	aclient->kpop = kpop;

	client->v.input = kpop_input;
	client->v.auth_send_challenge = kpop_auth_send_challenge;
	altpop_login_glue_set_auth_input(&client->v);
	client->v.auth_result = kpop_auth_result;
	client->v.notify_disconnect = kpop_notify_disconnect;
	client->v.notify_status = kpop_notify_status;
	client->v.starttls = kpop_starttls;
	client->v.destroy = kpop_client_destroy;

	sendauth_parser_init(&kpop->parser, default_pool, KPOP_MAX_AP_REQ_SIZE);

	if (altpop_sasl_find_available_mech(client, KPOP_MECH_NAME) == NULL) {
		e_error(client->event, "KPOP connection refused: the auth "
			"process does not offer the KPOP mechanism: add kpop "
			"to auth_mechanisms (libmech_kpop.so must be in the "
			"auth module directory)");
		kpop_destroy(kpop, "KPOP mechanism not available");
		return;
	}

	kpop_enter_state(kpop, KPOP_STATE_SENDAUTH);
	/* the client speaks first: no greeting until the ticket is good */
	client->io = io_add_istream(client->input, client_input, client);
	io_set_pending(client->io);
}
