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
   post-login process behind PASS). */

#include "login-common.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "safe-memset.h"
#include "str.h"
#include "str-sanitize.h"
#include "pop3-line.h"
#include "kpop-services.h"
#include "sendauth.h"
#include "kpop-mech-msg.h"
#include "altpop-login.h"
#include "login-glue.h"

/* From connect until the complete AP-REQ. */
#define KPOP_SENDAUTH_TIMEOUT_MSECS (30 * 1000)
/* Waiting for the auth process to judge the ticket (includes Dovecot's
   failure delay and auth penalty, at most 15 s). */
#define KPOP_VERIFY_TIMEOUT_MSECS (60 * 1000)
/* From the greeting until PASS. */
#define KPOP_COMMAND_TIMEOUT_MSECS (60 * 1000)
/* From PASS until the login result. */
#define KPOP_LOGIN_TIMEOUT_MSECS (60 * 1000)

enum kpop_state {
	KPOP_STATE_SENDAUTH = 0,
	KPOP_STATE_WAIT_AUTH,
	KPOP_STATE_VERIFYING,
	KPOP_STATE_COMMANDS,
	KPOP_STATE_LOGGING_IN,
	KPOP_STATE_REJECTED,
	KPOP_STATE_FAILED,
};

struct kpop_client {
	struct client *client;
	/* the vfuncs altpop-login had before KPOP took over */
	struct client_vfuncs super;

	enum kpop_state state;
	struct sendauth_parser parser;
	struct timeout *to;

	/* bytes of the AP-REQ handed to the mechanism so far */
	size_t ap_req_sent;
	char *user;
	char *failure;

	bool send_more:1;
	bool send_reject_ack:1;
	bool mutual:1;
};

static void kpop_timeout(struct kpop_client *kpop);

static struct kpop_client *kpop_client_get(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	i_assert(aclient->kpop != NULL);
	return aclient->kpop;
}

/* Every KPOP state with its name for log lines and the timeout that starts
   when it is entered (0: the running timeout goes on). */
static const struct {
	const char *name;
	unsigned int timeout_msecs;
} kpop_states[] = {
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

static const char *kpop_state_name(enum kpop_state state)
{
	i_assert(state < N_ELEMENTS(kpop_states));
	return kpop_states[state].name;
}

/* The one place that changes the KPOP state: sets the state's timeout and
   logs the transition. */
static void kpop_enter_state(struct kpop_client *kpop, enum kpop_state state)
{
	unsigned int msecs;

	i_assert(state < N_ELEMENTS(kpop_states));
	if (kpop->to == NULL) {
		/* the first state (the struct starts zeroed) */
		e_debug(kpop->client->event, "KPOP: state %s",
			kpop_state_name(state));
	} else if (kpop->state != state) {
		e_debug(kpop->client->event, "KPOP: state %s -> %s",
			kpop_state_name(kpop->state), kpop_state_name(state));
	}
	kpop->state = state;
	msecs = kpop_states[state].timeout_msecs;
	if (msecs != 0) {
		timeout_remove(&kpop->to);
		kpop->to = timeout_add(msecs, kpop_timeout, kpop);
	}
}

static void kpop_destroy(struct kpop_client *kpop, const char *reason)
{
	client_destroy(kpop->client, t_strconcat("KPOP: ", reason, NULL));
}

static void kpop_timeout(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	const char *what;

	timeout_remove(&kpop->to);
	switch (kpop->state) {
	case KPOP_STATE_SENDAUTH:
		what = t_strdup_printf("timed out %s",
			sendauth_parser_describe_state(&kpop->parser));
		break;
	case KPOP_STATE_WAIT_AUTH:
		what = "timed out waiting for the auth server connection";
		break;
	case KPOP_STATE_VERIFYING:
		what = "timed out waiting for the auth process to verify "
			"the ticket";
		break;
	case KPOP_STATE_COMMANDS:
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Disconnected for inactivity.");
		what = "timed out waiting for USER/PASS";
		break;
	case KPOP_STATE_LOGGING_IN:
		altpop_login_reply(client, ALTPOP_REPLY_TEMPFAIL,
				   "Timed out waiting for the login result.");
		what = "timed out waiting for the login result";
		break;
	case KPOP_STATE_REJECTED:
		what = t_strdup_printf("ticket rejected: %s", kpop->failure);
		break;
	case KPOP_STATE_FAILED:
	default:
		what = kpop->failure != NULL ? kpop->failure : "failed";
		break;
	}
	kpop_destroy(kpop, what);
}

/* -------------------------------------------------------------------- */
/* phase 1: the sendauth framing */

static void kpop_begin_auth(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const buffer_t *ap_req = kpop->parser.ap_req;
	buffer_t *initial;
	string_t *b64;

	if (!auth_client_is_connected(auth_client)) {
		/* clients_notify_auth_connected() wakes us up again */
		kpop_enter_state(kpop, KPOP_STATE_WAIT_AUTH);
		client->input_blocked = TRUE;
		return;
	}
	client->input_blocked = FALSE;

	kpop_enter_state(kpop, KPOP_STATE_VERIFYING);

	initial = t_buffer_create(KPOP_MECH_INITIAL_HEADER_SIZE +
				  I_MIN(ap_req->used, KPOP_MECH_CHUNK_SIZE));
	/* the services tickets may be for (see kpop-services.h) */
	buffer_append_c(initial, KPOP_SERVICES_MARK);
	buffer_append(initial, aclient->set->altpop_kpop_services,
		      strlen(aclient->set->altpop_kpop_services) + 1);
	kpop->ap_req_sent = kpop_mech_initial_append(initial, ap_req->data,
						     ap_req->used);
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(initial->used) + 1);
	base64_encode(initial->data, initial->used, b64);
	safe_memset(buffer_get_modifiable_data(initial, NULL), 0,
		    initial->used);

	/* may call auth_result() right away (e.g. mechanism missing) */
	(void)client_auth_begin_private(client, KPOP_MECH_NAME, str_c(b64));
}

static void kpop_refuse_versions(struct kpop_client *kpop)
{
	const struct sendauth_parser *parser = &kpop->parser;
	const char *what;

	if (parser->verdict == SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION) {
		what = t_strdup_printf("unsupported sendauth version \"%s\" "
				       "(expected \"%s\")",
				       parser->sendauth_version,
				       SENDAUTH_VERSION);
	} else {
		what = t_strdup_printf("unsupported application version "
				       "\"%s\" (expected \"%s\")",
				       parser->appl_version,
				       KPOP_APPL_VERSION);
	}
	kpop_destroy(kpop, what);
}

static void kpop_sendauth_error(struct kpop_client *kpop)
{
	struct client *client = kpop->client;

	if (kpop->parser.error == SENDAUTH_ERROR_KRB4) {
		/* a Kerberos IV client cannot parse anything we could say;
		   a human testing the port with telnet can */
		client_send_raw(client, "-ERR [SYS/PERM] Kerberos IV KPOP is "
				"not supported, use Kerberos V5.\r\n");
	}
	kpop_destroy(kpop, sendauth_error_str(&kpop->parser));
}

static void kpop_sendauth_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	const unsigned char *data;
	enum sendauth_result ret;
	unsigned char verdict;
	size_t size, consumed;

	switch (i_stream_read(client->input)) {
	case -1:
		kpop_destroy(kpop, t_strdup_printf(
			"client disconnected %s",
			sendauth_parser_describe_state(&kpop->parser)));
		return;
	case -2:
		/* cannot happen: everything is consumed in this phase */
		kpop_destroy(kpop, "input buffer full");
		return;
	default:
		break;
	}

	for (;;) {
		data = i_stream_get_data(client->input, &size);
		ret = sendauth_parser_feed(&kpop->parser, data, size,
					   &consumed);
		i_stream_skip(client->input, consumed);
		switch (ret) {
		case SENDAUTH_RESULT_MORE:
			return;
		case SENDAUTH_RESULT_VERSIONS:
			verdict = (unsigned char)kpop->parser.verdict;
			client_send_raw_data(client, &verdict, 1);
			if (kpop->parser.verdict != SENDAUTH_VERDICT_OK) {
				kpop_refuse_versions(kpop);
				return;
			}
			sendauth_parser_verdict_sent(&kpop->parser);
			break;
		case SENDAUTH_RESULT_AP_REQ:
			/* the rest of the input is POP3, left in the stream */
			kpop_begin_auth(kpop);
			return;
		case SENDAUTH_RESULT_ERROR:
			kpop_sendauth_error(kpop);
			return;
		}
	}
}

/* -------------------------------------------------------------------- */
/* phase 2: the mechanism's answers */

static void kpop_fail(struct kpop_client *kpop, const char *reason)
{
	/* destroyed on the next input callback (which follows right away),
	   not inside login-common's SASL callback */
	i_free(kpop->failure);
	kpop->failure = i_strdup(reason);
	kpop_enter_state(kpop, KPOP_STATE_FAILED);
}

static void kpop_send_banner(struct kpop_client *kpop, const buffer_t *ap_rep)
{
	struct client *client = kpop->client;
	buffer_t *frames = t_buffer_create(8 + ap_rep->used);

	sendauth_accepted_append(frames);
	if (kpop->mutual)
		sendauth_frame_append(frames, ap_rep->data, ap_rep->used);
	/* one write: a second small segment would wait for the client's
	   delayed ACK (Nagle), 40 ms per login */
	o_stream_cork(client->output);
	client_send_raw_data(client, frames->data, frames->used);
	altpop_login_reply(client, ALTPOP_REPLY_OK,
			   client->set->login_greeting);
	o_stream_uncork(client->output);
	client->banner_sent = TRUE;
}

static void kpop_auth_send_challenge(struct client *client, const char *data)
{
	struct kpop_client *kpop = kpop_client_get(client);
	const unsigned char *msg, *krb_error;
	const char *reason;
	buffer_t *buf, *ap_rep;
	size_t size, krb_error_size;

	buf = t_buffer_create(MAX_BASE64_DECODED_SIZE(strlen(data)) + 1);
	if (altpop_base64_decode(data, strlen(data), buf) < 0 ||
	    buf->used == 0) {
		e_error(client->event, "KPOP: invalid reply from the KPOP "
			"authentication mechanism");
		kpop_fail(kpop, "invalid reply from the auth process");
		return;
	}
	msg = buf->data;
	size = buf->used;

	if (kpop->state != KPOP_STATE_VERIFYING) {
		e_error(client->event, "KPOP: unexpected reply from the KPOP "
			"authentication mechanism in state %s",
			kpop_state_name(kpop->state));
		kpop_fail(kpop, "unexpected reply from the auth process");
		return;
	}

	switch (msg[0]) {
	case KPOP_MECH_CHALLENGE_MORE:
		if (kpop->ap_req_sent >= kpop->parser.ap_req->used) {
			kpop_fail(kpop, "auth process asked for more AP-REQ "
				  "data than there is");
			return;
		}
		kpop->send_more = TRUE;
		return;
	case KPOP_MECH_CHALLENGE_ACCEPTED:
		/* the ticket is used up: wipe it */
		sendauth_parser_deinit(&kpop->parser);
		ap_rep = t_buffer_create(size);
		buffer_append(ap_rep, msg + 1, size - 1);
		kpop->mutual = ap_rep->used > 0;
		kpop_enter_state(kpop, KPOP_STATE_COMMANDS);
		kpop_send_banner(kpop, ap_rep);
		return;
	case KPOP_MECH_CHALLENGE_REJECTED:
		sendauth_parser_deinit(&kpop->parser);
		if (kpop_mech_rejected_parse(msg + 1, size - 1, &reason,
					     &krb_error,
					     &krb_error_size) < 0) {
			kpop_fail(kpop, "malformed rejection from the auth "
				  "process");
			return;
		}
		if (krb_error_size > 0) {
			buffer_t *frame = t_buffer_create(krb_error_size + 4);

			sendauth_frame_append(frame, krb_error,
					      krb_error_size);
			client_send_raw_data(client, frame->data, frame->used);
		}
		i_free(kpop->failure);
		kpop->failure = i_strdup(str_sanitize(reason, 256));
		/* acknowledge; the failure reply follows after Dovecot's
		   failure delay */
		kpop->send_reject_ack = TRUE;
		kpop_enter_state(kpop, KPOP_STATE_REJECTED);
		return;
	default:
		kpop_fail(kpop, "unknown reply from the auth process");
		return;
	}
}

static void kpop_send_next_chunk(struct kpop_client *kpop)
{
	const buffer_t *ap_req = kpop->parser.ap_req;
	size_t chunk = I_MIN(ap_req->used - kpop->ap_req_sent,
			     KPOP_MECH_CHUNK_SIZE);
	string_t *b64;

	kpop->send_more = FALSE;
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(chunk) + 1);
	base64_encode(CONST_PTR_OFFSET(ap_req->data, kpop->ap_req_sent),
		      chunk, b64);
	kpop->ap_req_sent += chunk;
	client_auth_respond(kpop->client, str_c(b64));
}

/* -------------------------------------------------------------------- */
/* phase 3: POP3 commands until PASS */

static void kpop_send_user(struct kpop_client *kpop)
{
	string_t *b64;

	kpop_enter_state(kpop, KPOP_STATE_LOGGING_IN);
	b64 = t_str_new(MAX_BASE64_ENCODED_SIZE(strlen(kpop->user)) + 1);
	base64_encode(kpop->user, strlen(kpop->user), b64);
	/* removes the input handler: pipelined commands after PASS stay in
	   the stream for the post-login process */
	client_auth_respond(kpop->client, str_c(b64));
}

/* The KPOP entries of the pre-login command table (login-commands.c). */

int altpop_kpop_cmd_user(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	struct kpop_client *kpop = kpop_client_get(client);

	if (args[0] == '\0') {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "USER needs a user name.");
		return 1;
	}
	if (strlen(args) > KPOP_MAX_USER_LEN || strchr(args, ' ') != NULL) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Invalid user name.");
		return 1;
	}
	i_free(kpop->user);
	kpop->user = i_strdup(args);
	altpop_login_reply(client, ALTPOP_REPLY_OK,
		"Send PASS (any text) to log in with your Kerberos ticket.");
	return 1;
}

int altpop_kpop_cmd_pass(struct altpop_login_client *aclient,
			 const char *args ATTR_UNUSED)
{
	struct client *client = &aclient->common;
	struct kpop_client *kpop = kpop_client_get(client);

	/* the argument is not a password: fetchmail sends "krb_ticket",
	   others the user name */
	if (kpop->user == NULL) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "No username given (send USER first).");
		return 1;
	}
	kpop_send_user(kpop);
	return 0;
}

int altpop_kpop_cmd_quit(struct altpop_login_client *aclient,
			 const char *args ATTR_UNUSED)
{
	struct client *client = &aclient->common;

	altpop_login_reply(client, ALTPOP_REPLY_OK, "Logging out");
	kpop_destroy(kpop_client_get(client), CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
	return 0;
}

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

static void kpop_commands_input(struct kpop_client *kpop)
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
			cont = altpop_login_kpop_next_cmd(container_of(client,
				struct altpop_login_client, common));
		} T_END;
		if (!cont)
			break;
	}
	if (!client->destroyed)
		o_stream_uncork(client->output);
	client_unref(&client);
}

/* Read and drop input while the failure reply is due. */
static void kpop_drain_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	size_t size;

	if (i_stream_read(client->input) < 0 ||
	    kpop->state == KPOP_STATE_FAILED) {
		kpop_destroy(kpop, kpop->state == KPOP_STATE_REJECTED ?
			     t_strdup_printf("ticket rejected: %s",
					     kpop->failure) :
			     kpop->failure != NULL ? kpop->failure :
			     "connection closed");
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

/* login-common's SASL input callback (installed by the version glue) */
void altpop_kpop_auth_input(struct client *client)
{
	struct kpop_client *kpop = kpop_client_get(client);

	if (client->destroyed)
		return;
	switch (kpop->state) {
	case KPOP_STATE_VERIFYING:
		if (kpop->send_more)
			kpop_send_next_chunk(kpop);
		else
			kpop_drain_input(kpop);
		break;
	case KPOP_STATE_COMMANDS:
		kpop_commands_input(kpop);
		break;
	case KPOP_STATE_REJECTED:
		if (kpop->send_reject_ack) {
			kpop->send_reject_ack = FALSE;
			client_auth_respond(client, "");
			break;
		}
		kpop_drain_input(kpop);
		break;
	case KPOP_STATE_SENDAUTH:
	case KPOP_STATE_WAIT_AUTH:
	case KPOP_STATE_LOGGING_IN:
	case KPOP_STATE_FAILED:
		kpop_drain_input(kpop);
		break;
	}
}

static void kpop_auth_result(struct client *client,
			     enum client_auth_result result,
			     const struct client_auth_reply *reply,
			     const char *text)
{
	struct kpop_client *kpop = kpop_client_get(client);

	if (client->destroyed)
		return;

	switch (kpop->state) {
	case KPOP_STATE_COMMANDS:
	case KPOP_STATE_LOGGING_IN:
		/* the POP3 greeting is out: answer in POP3 */
		if (kpop->super.auth_result != NULL)
			kpop->super.auth_result(client, result, reply, text);
		if (result == CLIENT_AUTH_RESULT_SUCCESS ||
		    result == CLIENT_AUTH_RESULT_REFERRAL_SUCCESS)
			return;
		/* the ticket is spent: no second try on this connection */
		kpop_destroy(kpop, t_strdup_printf("login failed: %s",
			text != NULL ? text : "authentication failed"));
		return;
	case KPOP_STATE_REJECTED:
		kpop_destroy(kpop, t_strdup_printf("ticket rejected: %s",
						   kpop->failure));
		return;
	case KPOP_STATE_SENDAUTH:
	case KPOP_STATE_WAIT_AUTH:
	case KPOP_STATE_VERIFYING:
	case KPOP_STATE_FAILED:
		break;
	}

	/* no greeting yet: nothing POP3 can be said to a sendauth client */
	if (result == CLIENT_AUTH_RESULT_MECH_INVALID) {
		e_error(client->event, "KPOP: the auth process does not offer "
			"the KPOP mechanism: add kpop to auth_mechanisms "
			"(libmech_kpop.so must be in the auth module "
			"directory)");
	}
	kpop_destroy(kpop, kpop->failure != NULL ? kpop->failure :
		     t_strdup_printf("authentication failed before the "
				     "greeting (%s)", text != NULL ? text :
				     "no reason given"));
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

	if (sasl_server_find_available_mech(client, KPOP_MECH_NAME) == NULL) {
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
