/* SPDX-License-Identifier: LGPL-2.1-only */
/* Dovecot 2.4 glue of altpop-login: see login-glue.h. */

#include "login-common.h"
#include "settings.h"
#include "altpop-login.h"
#include "login-glue.h"

/* RFC 7301 (IANA registry) ALPN protocol ID of POP3, as stock pop3-login */
static const char *const altpop_login_alpn[] = { "pop3", NULL };

void altpop_login_glue_binary_init(struct login_binary *binary)
{
	binary->application_protocols = altpop_login_alpn;
	/* the post-login service (mail_max_userip_connections is counted
	   per service) */
	altpop_login_binary_set_service_name(binary, "altpop");
}

static int
altpop_login_glue_settings_get(struct client *client,
			       const struct altpop_login_settings **set_r,
			       const char **error_r)
{
	return settings_get(client->event, &altpop_login_setting_parser_info,
			    0, set_r, error_r);
}

static int altpop_login_glue_create(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const char *error;

	if (altpop_login_glue_settings_get(client, &aclient->set,
					   &error) < 0) {
		e_error(client->event, "%s", error);
		return -1;
	}
	return 0;
}

static int
altpop_login_glue_reload_config(struct client *client, const char **error_r)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const struct altpop_login_settings *set;

	/* keep the old settings if the new ones cannot be had */
	if (altpop_login_glue_settings_get(client, &set, error_r) < 0)
		return -1;
	settings_free(aclient->set);
	aclient->set = set;
	return 0;
}

void altpop_login_glue_vfuncs_init(struct client_vfuncs *v)
{
	v->create = altpop_login_glue_create;
	v->reload_config = altpop_login_glue_reload_config;
}

void altpop_login_glue_preinit(void)
{
	/* settings_get() finds altpop_login_setting_parser_info by itself */
}

void altpop_login_glue_settings_refresh(
	struct altpop_login_client *aclient ATTR_UNUSED)
{
	/* reload_config has done it */
}

int altpop_login_glue_addresses_changed(struct client *client,
					const char **error_r ATTR_UNUSED)
{
	event_add_ip(client->event, "local_ip", &client->local_ip);
	event_add_int(client->event, "local_port", client->local_port);
	event_add_ip(client->event, "remote_ip", &client->ip);
	event_add_int(client->event, "remote_port", client->remote_port);
	return 0;
}

void altpop_login_glue_settings_free(struct altpop_login_client *aclient)
{
	settings_free(aclient->set);
}

/* the reader altpop_login_glue_set_auth_input() installed */
static void (*altpop_login_glue_auth_input_callback)(struct client *client);

static bool altpop_login_glue_auth_input(struct client *client)
{
	altpop_login_glue_auth_input_callback(client);
	/* it answered the mechanism itself (client_auth_respond()) */
	return FALSE;
}

void altpop_login_glue_set_auth_input(struct client_vfuncs *v,
				      void (*callback)(struct client *client))
{
	i_assert(altpop_login_glue_auth_input_callback == NULL ||
		 altpop_login_glue_auth_input_callback == callback);
	altpop_login_glue_auth_input_callback = callback;
	v->auth_parse_response = altpop_login_glue_auth_input;
}

void altpop_login_glue_auth_abort(struct client *client)
{
	client_auth_respond(client, "*");
}

bool altpop_login_glue_tls_relay_possible(struct client *client)
{
	return client->multiplex_output == NULL;
}
