/* SPDX-License-Identifier: LGPL-2.1-only */
/* Proxying an authenticated client to a backend POP3 server (passdb
   "proxy" field): banner, optional STLS and XCLIENT, then USER/PASS, or
   AUTH with the passdb's proxy_mech (PLAIN or LOGIN; login-common picks
   PLAIN itself for a passdb "master" user). */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "base64.h"
#include "str.h"
#include "str-sanitize.h"
#include "dsasl-client.h"
#include "login-proxy.h"
#include "altpop-login.h"
#include "tls-relay.h"

/* how much of a backend's line goes into our log */
#define PROXY_LOG_LINE_MAX 160

static const char *altpop_proxy_state_names[ALTPOP_PROXY_STATE_COUNT] = {
	"banner", "starttls", "xclient", "login1", "login2"
};

/* The proxy_mech values altpop drives to a backend: both carry the
   password of the passdb reply (the user's own or the master user's). */
static const char *const altpop_proxy_mechs[] = { "PLAIN", "LOGIN" };

static void proxy_fail(struct client *client,
		       enum login_proxy_failure_type type, const char *reason)
{
	login_proxy_failed(client->login_proxy,
			   login_proxy_get_event(client->login_proxy),
			   type, reason);
}

/* altpop_proxy_login_finished: the login to the backend went through
   (error NULL) or failed. Its parent is the proxy's event (dest_host,
   dest_ip, dest_port, ...), a child of the client's. */
static void proxy_login_event(struct altpop_login_client *aclient,
			      const char *error, bool reconnecting)
{
	struct client *client = &aclient->common;
	struct event *event = event_create(client->login_proxy != NULL ?
		login_proxy_get_event(client->login_proxy) : client->event);

	event_set_name(event, "altpop_proxy_login_finished");
	event_add_str(event, "proxy_login", client->proxy_mech == NULL ?
		      "USER" : dsasl_client_mech_get_name(client->proxy_mech));
	event_add_str(event, "xclient", aclient->proxy_xclient &&
		      !client->proxy_not_trusted ? "yes" : "no");
	if (altpop_sdps_is_view(aclient)) {
		event_add_str(event, "sdps_user", aclient->sdps_user);
		event_add_str(event, "sdps_host", aclient->sdps_host);
	}
	if (error != NULL)
		event_add_str(event, "error", error);
	if (reconnecting)
		event_add_str(event, "reconnecting", "yes");
	e_debug(event, "Login to the backend %s%s",
		error == NULL ? "succeeded" : "failed: ",
		error == NULL ? "" : error);
	event_unref(&event);
}

static bool proxy_mech_forwardable(const char *name)
{
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(altpop_proxy_mechs); i++) {
		if (strcasecmp(name, altpop_proxy_mechs[i]) == 0)
			return TRUE;
	}
	return FALSE;
}

/* Appends "AUTH <mech> <initial response>\r\n" to str and starts the
   SASL client of the proxied login. */
static int proxy_start_sasl(struct altpop_login_client *aclient,
			    string_t *str)
{
	struct client *client = &aclient->common;
	struct dsasl_client_settings sasl_set;
	const unsigned char *data;
	const char *mech_name, *error;
	size_t len;

	mech_name = dsasl_client_mech_get_name(client->proxy_mech);
	if (altpop_sdps_is_view(aclient)) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_INTERNAL_CONFIG,
			   "an SDPS view (user@host) is forwarded to the "
			   "backend with USER/PASS only: remove proxy_mech "
			   "and master from the passdb reply of SDPS "
			   "host accounts");
		return -1;
	}
	if (!proxy_mech_forwardable(mech_name)) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_INTERNAL_CONFIG,
			   t_strdup_printf("altpop forwards logins to a backend "
				"with USER/PASS, proxy_mech=plain or "
				"proxy_mech=login only: change proxy_mech=%s "
				"in the passdb reply", mech_name));
		return -1;
	}
	i_zero(&sasl_set);
	sasl_set.authid = client->proxy_master_user != NULL ?
		client->proxy_master_user : client->proxy_user;
	sasl_set.authzid = client->proxy_user;
	sasl_set.password = client->proxy_password;
	dsasl_client_free(&client->proxy_sasl_client);
	client->proxy_sasl_client =
		dsasl_client_new(client->proxy_mech, &sasl_set);
	if (dsasl_client_output(client->proxy_sasl_client,
				&data, &len, &error) < 0) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_INTERNAL,
			   t_strdup_printf("SASL mechanism %s to the backend "
					   "failed to start: %s",
					   mech_name, error));
		return -1;
	}
	str_printfa(str, "AUTH %s", mech_name);
	if (len > 0) {
		str_append_c(str, ' ');
		base64_encode(data, len, str);
	}
	str_append(str, "\r\n");
	return 0;
}

/* The backend's "+ <base64>" challenge of the proxied SASL login:
   answers it. */
static int proxy_continue_sasl(struct client *client, struct ostream *output,
			       const char *challenge)
{
	string_t *str = t_str_new(128);
	const unsigned char *data;
	const char *error;
	size_t len;

	if (altpop_base64_decode(challenge, strlen(challenge), str) < 0) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_PROTOCOL,
			   t_strdup_printf("Invalid base64 in the backend's "
				"AUTH challenge: %s",
				str_sanitize(challenge, PROXY_LOG_LINE_MAX)));
		return -1;
	}
	if (dsasl_client_input(client->proxy_sasl_client, str_data(str),
			       str_len(str), &error) < 0 ||
	    dsasl_client_output(client->proxy_sasl_client,
				&data, &len, &error) < 0) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_PROTOCOL,
			   t_strdup_printf("The backend's AUTH challenge "
					   "was refused: %s", error));
		return -1;
	}
	str_truncate(str, 0);
	base64_encode(data, len, str);
	str_append(str, "\r\n");
	o_stream_nsend(output, str_data(str), str_len(str));
	return 0;
}

static int proxy_send_login(struct altpop_login_client *aclient,
			    struct ostream *output)
{
	struct client *client = &aclient->common;
	string_t *str = t_str_new(128);

	if (aclient->proxy_xclient && !client->proxy_not_trusted) {
		str_printfa(str, "XCLIENT ADDR=%s PORT=%u",
			    net_ip2addr(&client->ip), client->remote_port);
		if (client->local_ip.family != 0) {
			/* where the client connected to us (Dovecot
			   2.4.3+'s pop3-login sends and takes them too;
			   older backends ignore them) */
			str_printfa(str, " DESTADDR=%s DESTPORT=%u",
				    net_ip2addr(&client->local_ip),
				    client->local_port);
		}
		str_printfa(str, " SESSION=%s TTL=%u\r\n",
			    client_get_session_id(client),
			    client->proxy_ttl - 1);
		aclient->proxy_state = ALTPOP_PROXY_XCLIENT;
	} else {
		aclient->proxy_state = client->proxy_mech == NULL ?
			ALTPOP_PROXY_LOGIN1 : ALTPOP_PROXY_LOGIN2;
	}
	if (client->proxy_mech == NULL) {
		str_printfa(str, "USER %s\r\n",
			    altpop_sdps_proxy_user(aclient, client->proxy_user));
	} else if (proxy_start_sasl(aclient, str) < 0)
		return -1;
	o_stream_nsend(output, str_data(str), str_len(str));
	return 0;
}

static bool proxy_line_ok(const char *line)
{
	return altpop_str_begins(line, "+OK");
}

int altpop_proxy_parse_line(struct client *client, const char *line)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	struct ostream *output =
		altpop_login_proxy_get_ostream(client->login_proxy);

	switch (aclient->proxy_state) {
	case ALTPOP_PROXY_BANNER:
		if (!proxy_line_ok(line)) {
			proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_PROTOCOL,
				   t_strdup_printf("Invalid banner: %s",
				   str_sanitize(line, PROXY_LOG_LINE_MAX)));
			return -1;
		}
		aclient->proxy_xclient =
			altpop_str_begins(line + 3, " [XCLIENT]");
		if ((login_proxy_get_ssl_flags(client->login_proxy) &
		     ALTPOP_PROXY_SSL_FLAG_STARTTLS) != 0) {
			o_stream_nsend_str(output, "STLS\r\n");
			aclient->proxy_state = ALTPOP_PROXY_STARTTLS;
			return 0;
		}
		return proxy_send_login(aclient, output) < 0 ? -1 : 0;
	case ALTPOP_PROXY_STARTTLS:
		if (!proxy_line_ok(line)) {
			proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_REMOTE,
				   t_strdup_printf("STLS failed: %s",
				   str_sanitize(line, PROXY_LOG_LINE_MAX)));
			return -1;
		}
		if (login_proxy_starttls(client->login_proxy) < 0)
			return -1;
		output = altpop_login_proxy_get_ostream(client->login_proxy);
		return proxy_send_login(aclient, output) < 0 ? -1 : 1;
	case ALTPOP_PROXY_XCLIENT:
		if (!proxy_line_ok(line)) {
			proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_REMOTE,
				   t_strdup_printf("XCLIENT failed: %s",
				   str_sanitize(line, PROXY_LOG_LINE_MAX)));
			return -1;
		}
		aclient->proxy_state = client->proxy_mech == NULL ?
			ALTPOP_PROXY_LOGIN1 : ALTPOP_PROXY_LOGIN2;
		return 0;
	case ALTPOP_PROXY_LOGIN1:
		if (!proxy_line_ok(line))
			break;
		o_stream_nsend_str(output, t_strdup_printf(
			"PASS %s\r\n", client->proxy_password));
		aclient->proxy_state = ALTPOP_PROXY_LOGIN2;
		return 0;
	case ALTPOP_PROXY_LOGIN2:
		/* a challenge: "+ <base64>", or "+" when it is empty */
		if (client->proxy_sasl_client != NULL && line[0] == '+' &&
		    (line[1] == '\0' || line[1] == ' '))
			return proxy_continue_sasl(client, output,
						   line[1] == '\0' ? "" : line + 2);
		if (!proxy_line_ok(line))
			break;
		/* logged in: the client sees the backend's reply */
		proxy_login_event(aclient, NULL, FALSE);
		o_stream_nsend_str(client->output,
				   t_strconcat(line, "\r\n", NULL));
		/* a TLS client's session is relayed by altpop's TLS relay;
		   login-common's proxy relays its plaintext */
		(void)altpop_tls_relay_proxy_takeover(client);
		client_proxy_finish_destroy_client(client);
		return 1;
	case ALTPOP_PROXY_STATE_COUNT:
		i_unreached();
	}

	/* the backend refused the login */
	if (altpop_str_begins(line, "-ERR [SYS/TEMP]")) {
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_AUTH_TEMPFAIL,
			   line + 5);
	} else {
		if (altpop_str_begins(line, "-ERR "))
			client_send_raw(client, t_strconcat(line, "\r\n", NULL));
		else
			altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR,
					   AUTH_FAILED_MSG);
		proxy_fail(client, LOGIN_PROXY_FAILURE_TYPE_AUTH_REPLIED,
			   altpop_str_begins(line, "-ERR ") ? line + 5 : line);
	}
	return -1;
}

void altpop_proxy_reset(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	aclient->proxy_state = ALTPOP_PROXY_BANNER;
}

void altpop_proxy_failed(struct client *client,
			 enum login_proxy_failure_type type,
			 const char *reason, bool reconnecting)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	/* each failed attempt, also one that is tried again */
	proxy_login_event(aclient, reason, reconnecting);
	if (reconnecting) {
		/* nothing to tell the client yet */
	} else if (altpop_proxy_failure_auth_not_replied(type)) {
		altpop_login_reply(client, ALTPOP_REPLY_AUTH_ERROR,
				   AUTH_FAILED_MSG);
	} else if (altpop_proxy_failure_auth_replied(type)) {
		/* the backend's answer went to the client already */
	} else {
		switch (type) {
		case LOGIN_PROXY_FAILURE_TYPE_INTERNAL_CONFIG:
		case LOGIN_PROXY_FAILURE_TYPE_REMOTE_CONFIG:
			altpop_login_reply(client, ALTPOP_REPLY_ERROR,
					   LOGIN_PROXY_FAILURE_MSG);
			break;
		case LOGIN_PROXY_FAILURE_TYPE_AUTH_TEMPFAIL:
			/* reason carries its [SYS/TEMP] code */
			altpop_login_reply(client, ALTPOP_REPLY_ERROR, reason);
			break;
		case LOGIN_PROXY_FAILURE_TYPE_CONNECT:
		case LOGIN_PROXY_FAILURE_TYPE_INTERNAL:
		case LOGIN_PROXY_FAILURE_TYPE_REMOTE:
		case LOGIN_PROXY_FAILURE_TYPE_PROTOCOL:
		default:
			/* also 2.4's AUTH_REDIRECT: altpop follows no
			   referrals, so none should get here */
			altpop_login_reply(client, ALTPOP_REPLY_TEMPFAIL,
					   LOGIN_PROXY_FAILURE_MSG);
			break;
		}
	}
	client_common_proxy_failed(client, type, reason, reconnecting);
}

const char *altpop_proxy_get_state(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	return altpop_proxy_state_names[aclient->proxy_state];
}
