/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop-login: the pre-auth POP3 process. Owns the banner, the input
   loop and the hooks login-common calls. */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "master-service.h"
#include "altpop-login.h"
#include "login-glue.h"

static void altpop_login_input(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	i_assert(!client->authenticating);

	if (!client->notified_auth_ready) {
		/* Some login-commons (2.4) listen before the auth server is
		   connected. altpop talks first (greeting, or the KPOP
		   verdict) once it is: leave the input, and an EOF, for the
		   io that notify_auth_ready adds. */
		io_remove(&client->io);
		return;
	}
	if (!client_read(client))
		return;
	altpop_login_glue_settings_refresh(aclient);

	client_ref(client);
	o_stream_cork(client->output);
	/* A command that starts authentication or TLS stops the loop: input
	   after it belongs to the next phase. */
	while (!client->output->closed && !client->authenticating &&
	       !client->destroyed && client->io != NULL &&
	       auth_client_is_connected(auth_client)) {
		if (!client->v.input_next_cmd(client))
			break;
	}
	if (auth_client != NULL && !auth_client_is_connected(auth_client))
		client->input_blocked = TRUE;
	o_stream_uncork(client->output);
	client_unref(&client);
}

static struct client *altpop_login_client_alloc(pool_t pool)
{
	struct altpop_login_client *client;

	client = p_new(pool, struct altpop_login_client, 1);
	return &client->common;
}

static void altpop_login_client_destroy(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	i_free_and_null(aclient->current_cmd);
	i_free_and_null(aclient->last_user);
	i_free_and_null(aclient->apop_challenge);
	altpop_sdps_reset(aclient);
	altpop_login_glue_settings_free(aclient);
}

static void altpop_login_send_banner(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	string_t *str = t_str_new(128);

	if (altpop_client_trusted(client)) {
		/* lets a trusted proxy skip a CAPA round trip */
		str_append(str, "[XCLIENT] ");
	}
	str_append(str, client->set->login_greeting);
	aclient->apop_challenge = altpop_apop_challenge_create(aclient);
	if (aclient->apop_challenge != NULL)
		str_printfa(str, " %s", aclient->apop_challenge);
	altpop_login_reply(client, ALTPOP_REPLY_OK, str_c(str));
	client->banner_sent = TRUE;
}

bool altpop_login_listener_listed(struct client *client,
				  const char *listeners)
{
	const char *name = client->listener_name;

	if (listeners[0] == '\0')
		return FALSE;
	if (strcmp(listeners, "*") == 0)
		return TRUE;
	if (name == NULL)
		return FALSE;
	for (const char *const *l = t_strsplit_spaces(listeners, " ,");
	     *l != NULL; l++) {
		if (strcmp(*l, name) == 0)
			return TRUE;
	}
	return FALSE;
}

static void altpop_login_notify_auth_ready(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	if (altpop_login_listener_listed(client,
					 aclient->set->altpop_kpop_listeners)) {
		/* Kerberos V5 sendauth first, the greeting comes after the
		   ticket was accepted */
		altpop_kpop_start(client);
		return;
	}
	client->io = io_add_istream(client->input, client_input, client);
	altpop_login_send_banner(client);
}

static void altpop_login_notify_starttls(struct client *client, bool success,
					 const char *text)
{
	altpop_login_reply(client, success ? ALTPOP_REPLY_OK :
			   ALTPOP_REPLY_ERROR, text);
}

static void altpop_login_starttls(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	/* Nothing said before TLS may carry over into the TLS session. */
	i_free_and_null(aclient->current_cmd);
	i_free_and_null(aclient->last_user);
	aclient->auth_mech_name_parsed = FALSE;
}

void altpop_login_reply(struct client *client, enum altpop_reply reply,
			const char *text)
{
	const char *prefix;

	switch (reply) {
	case ALTPOP_REPLY_OK:
		prefix = "+OK";
		break;
	case ALTPOP_REPLY_TEMPFAIL:
		prefix = text[0] == '[' ? "-ERR" : "-ERR [SYS/TEMP]";
		break;
	case ALTPOP_REPLY_AUTH_ERROR:
		prefix = text[0] == '[' ? "-ERR" : "-ERR [AUTH]";
		break;
	case ALTPOP_REPLY_IN_USE:
		prefix = "-ERR [IN-USE]";
		break;
	case ALTPOP_REPLY_ERROR:
	default:
		prefix = "-ERR";
		break;
	}
	T_BEGIN {
		string_t *line = t_str_new(128);
		text = altpop_login_common_text(client, text);
		str_printfa(line, "%s %s\r\n", prefix, text);
		client_send_raw_data(client, str_data(line), str_len(line));
	} T_END;
}

static void
altpop_login_notify_disconnect(struct client *client,
			       enum client_disconnect_reason reason,
			       const char *text)
{
	altpop_login_reply(client, reason == CLIENT_DISCONNECT_INTERNAL_ERROR ?
			   ALTPOP_REPLY_TEMPFAIL : ALTPOP_REPLY_ERROR, text);
}

static void altpop_login_die(void)
{
	/* POP3 sessions are short: let them finish. */
}

static void altpop_login_preinit(void)
{
	altpop_login_glue_preinit();
}

static void altpop_login_init(void)
{
	master_service_set_die_callback(master_service, altpop_login_die);
}

static void altpop_login_deinit(void)
{
	clients_destroy_all();
}

static struct client_vfuncs altpop_login_vfuncs = {
	.alloc = altpop_login_client_alloc,
	/* .create (2.4: also .reload_config): see main() */
	.destroy = altpop_login_client_destroy,
	.notify_auth_ready = altpop_login_notify_auth_ready,
	.notify_disconnect = altpop_login_notify_disconnect,
	.notify_starttls = altpop_login_notify_starttls,
	.starttls = altpop_login_starttls,
	.input = altpop_login_input,
	.auth_result = altpop_login_auth_result,
	.sasl_check_login = altpop_login_check_login,
	.proxy_reset = altpop_proxy_reset,
	.proxy_parse_line = altpop_proxy_parse_line,
	.proxy_failed = altpop_proxy_failed,
	.proxy_get_state = altpop_proxy_get_state,
	.send_raw_data = client_common_send_raw_data,
	.input_next_cmd = altpop_login_input_next_cmd,
	.free = client_common_default_free,
};

static struct login_binary altpop_login_binary = {
	.protocol = "altpop",
	.process_name = "altpop-login",
	.default_port = 110,
	.default_ssl_port = 995,

	.event_category = {
		.name = "altpop",
	},

	.client_vfuncs = &altpop_login_vfuncs,
	.preinit = altpop_login_preinit,
	.init = altpop_login_init,
	.deinit = altpop_login_deinit,

	.sasl_support_final_reply = FALSE,
	.anonymous_login_acceptable = TRUE,
};

int main(int argc, char *argv[])
{
	altpop_login_glue_vfuncs_init(&altpop_login_vfuncs);
	altpop_login_glue_binary_init(&altpop_login_binary);
	return login_binary_run(&altpop_login_binary, argc, argv);
}
