/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP (Kerberos V5 POP, port 1109): one connection of altpop-kpop-login.

   This file does the I/O: it reads the client's bytes and command lines,
   hears from login-common (auth server connection, the mechanism's
   challenge, the login result, timeouts), hands every such event to the
   machine in kpop-fsm.c and carries out the one action that comes back
   (kpop_session_apply()). It keeps no state of the exchange itself.

   The process never sees the keytab and never calls krb5_recvauth(): it
   only frames bytes; the private KPOP mechanism in the auth process judges
   the ticket. Bytes pipelined behind the AP-REQ stay in the input stream
   and are read after the greeting (or passed on to the post-login process
   behind PASS). */

#include "login-common.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "safe-memset.h"
#include "str.h"
#include "kpop-limits.h"
#include "kpop-mech-msg.h"
#include "pop3-line-reader.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "kpop-fsm.h"
#include "kpop-session.h"

struct kpop_session {
	/* first: login-common allocates the whole struct (alloc vfunc) */
	struct altpop_login_client aclient;

	struct kpop_fsm fsm;
	struct timeout *to;
	/* the KRB-ERROR of a rejected ticket, held back until the end */
	buffer_t *reject_frame;
	bool started:1;
};

static struct kpop_session *kpop_session_get(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	return container_of(aclient, struct kpop_session, aclient);
}

struct client *kpop_session_alloc(pool_t pool)
{
	struct kpop_session *session;

	session = p_new(pool, struct kpop_session, 1);
	session->aclient.ticket_login = TRUE;
	return &session->aclient.common;
}

static void kpop_session_timeout(struct kpop_session *session);
static void kpop_session_commands(struct kpop_session *session);

static enum altpop_reply kpop_session_reply_kind(enum kpop_reply reply)
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

static void kpop_session_destroy_reason(struct kpop_session *session,
					const char *reason)
{
	struct client *client = &session->aclient.common;

	if (session->reject_frame != NULL) {
		client_send_raw_data(client, session->reject_frame->data,
				     session->reject_frame->used);
		session->reject_frame = NULL;
	}
	client_destroy(client, t_strconcat("KPOP: ", reason, NULL));
}

/* Starts the private mechanism (data: services list and the first
   AP-REQ chunk) or answers it (the next chunk, the USER name, an empty
   acknowledgement). */
static void kpop_session_auth_send(struct kpop_session *session,
				   const struct kpop_action *action,
				   bool begin)
{
	struct client *client = &session->aclient.common;
	string_t *b64;

	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(action->data_size) + 1);
	base64_encode(action->data, action->data_size, b64);
	if (!begin) {
		/* 2.3 and 2.4: a response while the exchange is open */
		client_auth_respond(client, str_c(b64));
		return;
	}
	/* the initial message carries the ticket: wipe the machine's copy
	   once it is encoded */
	if (action->secret != NULL)
		safe_memset(action->secret, 0, action->data_size);
	/* may call auth_result() right away (e.g. mechanism missing) */
	(void)client_auth_begin_private(client, KPOP_MECH_NAME, str_c(b64));
}

static void kpop_session_greet(struct kpop_session *session,
			       const struct kpop_action *action)
{
	struct client *client = &session->aclient.common;
	buffer_t *frames = t_buffer_create(8 + action->data_size);

	sendauth_accepted_append(frames);
	if (action->data_size > 0) {
		/* mutual authentication: the AP-REP */
		sendauth_frame_append(frames, action->data, action->data_size);
	}
	/* one write: a second small segment would wait for the client's
	   delayed ACK (Nagle), 40 ms per login */
	o_stream_cork(client->output);
	client_send_raw_data(client, frames->data, frames->used);
	altpop_login_reply(client, ALTPOP_REPLY_OK,
			   client->set->login_greeting);
	o_stream_uncork(client->output);
	client->banner_sent = TRUE;
}

/* The KRB-ERROR of a rejected ticket goes out with the end of the
   connection, which follows the auth process's final failure: that comes
   after auth_failure_delay (and the auth penalty), as pop3-login's
   -ERR does. Sent at once, it would tell a guessing client the verdict
   before the delay. */
static void kpop_session_reject(struct kpop_session *session,
				const struct kpop_action *action)
{
	struct client *client = &session->aclient.common;

	if (action->data_size == 0)
		return;
	session->reject_frame = buffer_create_dynamic(client->pool,
						      action->data_size + 4);
	sendauth_frame_append(session->reject_frame, action->data,
			      action->data_size);
}

/* Carry out an action of the machine. TRUE: feed the buffered input
   again. */
/* STLS on the KPOP port: the client may go on after a refusal */
static int kpop_session_stls(struct client *client)
{
	bool starting = client_is_tls_enabled(client) &&
		!altpop_client_tls(client);

	/* the TLS stream drops plaintext pipelined behind STLS */
	client_cmd_starttls(client);
	return starting ? 0 : 1;
}

/* The commands kpop-fsm.c leaves to the login process. */
static bool kpop_session_run_command(struct kpop_session *session,
				     const struct kpop_action *action)
{
	struct altpop_login_client *aclient = &session->aclient;
	int ret;

	switch (action->cmd->kind) {
	case KPOP_COMMAND_CAPA:
		ret = altpop_cmd_capa(aclient, action->args);
		break;
	case KPOP_COMMAND_STLS:
		ret = kpop_session_stls(&aclient->common);
		break;
	default:
		i_unreached();
	}
	return altpop_login_command_done(aclient, ret);
}

static bool kpop_session_apply(struct kpop_session *session,
			       const struct kpop_action *action)
{
	struct client *client = &session->aclient.common;

	if (action->log_error != NULL)
		e_error(client->event, "%s", action->log_error);
	if (action->state_changed) {
		e_debug(client->event, "KPOP: state %s",
			kpop_state_name(session->fsm.state));
		if (action->timeout_msecs != 0) {
			timeout_remove(&session->to);
			session->to = timeout_add(action->timeout_msecs,
						  kpop_session_timeout,
						  session);
		}
	}
	if (action->raw_size > 0)
		client_send_raw_data(client, action->raw, action->raw_size);
	if (action->reply != KPOP_REPLY_NONE) {
		altpop_login_reply(client,
				   kpop_session_reply_kind(action->reply),
				   action->reply_text);
	}

	switch (action->kind) {
	case KPOP_ACTION_READ_MORE:
		return FALSE;
	case KPOP_ACTION_CONTINUE:
		return TRUE;
	case KPOP_ACTION_WAIT_AUTH:
		/* clients_notify_auth_connected() wakes the input up */
		client->input_blocked = TRUE;
		return FALSE;
	case KPOP_ACTION_BEGIN_AUTH:
		client->input_blocked = FALSE;
		kpop_session_auth_send(session, action, TRUE);
		return FALSE;
	case KPOP_ACTION_AUTH_RESPOND:
		kpop_session_auth_send(session, action, FALSE);
		return FALSE;
	case KPOP_ACTION_READ_COMMANDS:
		kpop_session_commands(session);
		return FALSE;
	case KPOP_ACTION_RUN_COMMAND:
		return kpop_session_run_command(session, action);
	case KPOP_ACTION_GREET:
		kpop_session_greet(session, action);
		return FALSE;
	case KPOP_ACTION_REJECT:
		kpop_session_reject(session, action);
		return FALSE;
	case KPOP_ACTION_LOGIN_RESULT:
		/* the POP3 reply went out (kpop_session_auth_result()) */
		if (action->reason != NULL)
			kpop_session_destroy_reason(session, action->reason);
		return FALSE;
	case KPOP_ACTION_DISCONNECT:
		if (action->too_many_bad) {
			altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				KPOP_TEXT(POP3_MSG_TOO_MANY_BAD_COMMANDS));
		}
		kpop_session_destroy_reason(session, action->reason != NULL ?
			action->reason : CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
		return FALSE;
	}
	i_unreached();
}

static void kpop_session_timeout(struct kpop_session *session)
{
	struct kpop_action action;

	timeout_remove(&session->to);
	kpop_fsm_timeout(&session->fsm, &action);
	(void)kpop_session_apply(session, &action);
}

/* POP3 command lines until PASS (KPOP_ACTION_READ_COMMANDS). */
static void kpop_session_commands(struct kpop_session *session)
{
	struct client *client = &session->aclient.common;
	enum pop3_line_read_result read_result;
	struct kpop_action action;
	const char *line;
	bool cont = TRUE;

	/* login-common's reader ends a client at EOF or a full buffer */
	if (!client_read(client))
		return;
	altpop_login_glue_settings_refresh(&session->aclient);

	while (cont && !client->destroyed) T_BEGIN {
		read_result = pop3_line_read(client->input, &line);
		if (read_result == POP3_LINE_READ_BAD_BYTES)
			e_debug(client->event, "Command line with NUL or bare CR");
		kpop_fsm_command(&session->fsm, read_result, line,
				 &client->bad_counter, &action);
		cont = kpop_session_apply(session, &action);
	} T_END;
}

void kpop_session_start(struct client *client)
{
	struct kpop_session *session = kpop_session_get(client);
	const struct altpop_login_settings *set = session->aclient.set;
	struct kpop_action action;

	kpop_fsm_init(&session->fsm, KPOP_MAX_AP_REQ_SIZE,
		      set->altpop_kpop_services,
		      set->altpop_login_max_bad_commands);
	session->started = TRUE;
	kpop_fsm_start(&session->fsm,
		       altpop_sasl_find_available_mech(client,
						       KPOP_MECH_NAME) != NULL,
		       &action);
	/* applying may destroy the client (no KPOP mechanism): keep it
	   until we know */
	struct client *ref = client;
	bool destroyed;

	client_ref(ref);
	(void)kpop_session_apply(session, &action);
	destroyed = client->destroyed;
	client_unref(&ref);
	if (destroyed)
		return;
	/* the client speaks first: no greeting until the ticket is good */
	client->io = io_add_istream(client->input, client_input, client);
	io_set_pending(client->io);
}

/* login-common's input callback, and its SASL input callback (installed
   through the version glue): the machine decides what the input is. */
void kpop_session_input(struct client *client)
{
	struct kpop_session *session = kpop_session_get(client);
	const unsigned char *data;
	struct kpop_action action;
	enum kpop_read read;
	size_t size, consumed;
	bool cont;

	if (client->destroyed)
		return;
	if (!client->notified_auth_ready) {
		/* some login-commons (2.4) listen before the auth server is
		   connected: the io of kpop_session_start() takes over */
		io_remove(&client->io);
		return;
	}
	switch (i_stream_read(client->input)) {
	case -1:
		read = KPOP_READ_EOF;
		break;
	case -2:
		read = KPOP_READ_FULL;
		break;
	default:
		read = KPOP_READ_OK;
		break;
	}

	client_ref(client);
	o_stream_cork(client->output);
	do T_BEGIN {
		data = i_stream_get_data(client->input, &size);
		kpop_fsm_input(&session->fsm, read, data, size,
			       auth_client_is_connected(auth_client),
			       &consumed, &action);
		i_stream_skip(client->input, consumed);
		cont = kpop_session_apply(session, &action);
	} T_END; while (cont && !client->destroyed);
	if (!client->destroyed)
		o_stream_uncork(client->output);
	client_unref(&client);
}

void kpop_session_auth_challenge(struct client *client, const char *data)
{
	struct kpop_session *session = kpop_session_get(client);
	struct kpop_action action;
	buffer_t *buf;

	buf = t_buffer_create(MAX_BASE64_DECODED_SIZE(strlen(data)) + 1);
	if (altpop_base64_decode(data, strlen(data), buf) < 0)
		buffer_set_used_size(buf, 0);
	kpop_fsm_challenge(&session->fsm, buf->data, buf->used, &action);
	(void)kpop_session_apply(session, &action);
}

void kpop_session_auth_result(struct client *client,
			      enum client_auth_result result,
			      const struct client_auth_reply *reply,
			      const char *text)
{
	struct kpop_session *session = kpop_session_get(client);
	struct kpop_action action;

	if (client->destroyed)
		return;
	kpop_fsm_auth_result(&session->fsm,
			     result == CLIENT_AUTH_RESULT_SUCCESS ||
			     result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS,
			     result == CLIENT_AUTH_RESULT_MECH_INVALID,
			     text, &action);
	if (action.kind == KPOP_ACTION_LOGIN_RESULT)
		altpop_login_auth_result(client, result, reply, text);
	(void)kpop_session_apply(session, &action);
}

void kpop_session_notify_disconnect(struct client *client,
				    enum client_disconnect_reason reason,
				    const char *text)
{
	struct kpop_session *session = kpop_session_get(client);

	/* POP3 text only once the client reads POP3 */
	if (session->started && kpop_fsm_speaks_pop3(&session->fsm))
		altpop_login_notify_disconnect(client, reason, text);
}

void kpop_session_starttls(struct client *client)
{
	struct kpop_session *session = kpop_session_get(client);

	kpop_fsm_tls_started(&session->fsm);
	altpop_login_starttls(client);
}

void kpop_session_destroy(struct client *client)
{
	struct kpop_session *session = kpop_session_get(client);

	timeout_remove(&session->to);
	if (session->started)
		kpop_fsm_deinit(&session->fsm);
	altpop_login_client_destroy(client);
}
