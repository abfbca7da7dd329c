/* SPDX-License-Identifier: LGPL-2.1-only */
/* What both login binaries (altpop-login, altpop-kpop-login) do with a
   client the same way: its struct, POP3 replies, the disconnect and STLS
   texts, the end of a client, the process hooks. */

#include "login-common.h"
#include "str.h"
#include "master-service.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "tls-relay.h"

struct client *altpop_login_client_alloc(pool_t pool)
{
	struct altpop_login_client *client;

	client = p_new(pool, struct altpop_login_client, 1);
	return &client->common;
}

void altpop_login_client_destroy(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	altpop_tls_relay_takeover(client);
	i_free_and_null(aclient->current_cmd);
	i_free_and_null(aclient->last_user);
	i_free_and_null(aclient->apop_challenge);
	altpop_sdps_reset(aclient);
	altpop_login_glue_settings_free(aclient);
}

void altpop_login_client_free(struct client *client)
{
	altpop_tls_relay_free(client);
	client_common_default_free(client);
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
		str_printfa(line, "%s %s\r\n", prefix, text);
		client_send_raw_data(client, str_data(line), str_len(line));
	} T_END;
}

void altpop_login_notify_disconnect(struct client *client,
				    enum client_disconnect_reason reason,
				    const char *text)
{
	altpop_login_reply(client, reason == CLIENT_DISCONNECT_INTERNAL_ERROR ?
			   ALTPOP_REPLY_TEMPFAIL : ALTPOP_REPLY_ERROR, text);
}

void altpop_login_notify_starttls(struct client *client, bool success,
				  const char *text)
{
	altpop_login_reply(client, success ? ALTPOP_REPLY_OK :
			   ALTPOP_REPLY_ERROR, text);
}

void altpop_login_starttls(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	/* Nothing said before TLS may carry over into the TLS session. */
	i_free_and_null(aclient->current_cmd);
	i_free_and_null(aclient->last_user);
	aclient->auth_mech_name_parsed = FALSE;
}

static void altpop_login_die(void)
{
	/* POP3 sessions are short: let them finish. */
}

void altpop_login_preinit(void)
{
	altpop_login_glue_preinit();
}

void altpop_login_init(void)
{
	master_service_set_die_callback(master_service, altpop_login_die);
}

void altpop_login_deinit(void)
{
	clients_destroy_all();
	altpop_tls_relay_deinit();
}
