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

   This file: the states and their timeouts, the vfunc takeover and the
   POP3 commands of the KPOP port (entries of login-commands.c's table);
   the sendauth phase is in login-kpop-sendauth.c, the glue to the auth
   mechanism in login-kpop-auth.c (see login-kpop.h). */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "kpop-limits.h"
#include "kpop-mech-msg.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "login-kpop.h"

/* From connect until the complete AP-REQ. */
#define KPOP_SENDAUTH_TIMEOUT_MSECS (30 * 1000)
/* Waiting for the auth process to judge the ticket (includes Dovecot's
   failure delay and auth penalty, at most 15 s). */
#define KPOP_VERIFY_TIMEOUT_MSECS (60 * 1000)
/* From the greeting until PASS. */
#define KPOP_COMMAND_TIMEOUT_MSECS (60 * 1000)
/* From PASS until the login result. */
#define KPOP_LOGIN_TIMEOUT_MSECS (60 * 1000)

static void kpop_timeout(struct kpop_client *kpop);

struct kpop_client *kpop_client_get(struct client *client)
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

const char *kpop_state_name(enum kpop_state state)
{
	i_assert(state < N_ELEMENTS(kpop_states));
	return kpop_states[state].name;
}

/* The one place that changes the KPOP state: sets the state's timeout and
   logs the transition. */
void kpop_enter_state(struct kpop_client *kpop, enum kpop_state state)
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

void kpop_destroy(struct kpop_client *kpop, const char *reason)
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
/* POP3 commands until PASS */

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
void kpop_drain_input(struct kpop_client *kpop)
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
