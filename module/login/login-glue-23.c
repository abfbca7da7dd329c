/* SPDX-License-Identifier: LGPL-2.1-only */
/* Dovecot 2.3 glue of altpop-login: see login-glue.h. */

#include "login-common.h"
#include "login-settings.h"
#include "altpop-login.h"
#include "login-glue.h"

void altpop_login_glue_binary_init(struct login_binary *binary ATTR_UNUSED)
{
	/* 2.3's struct login_binary has nothing altpop must add */
}

static void
altpop_login_glue_create(struct client *client, void **other_sets)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);

	/* login-common read altpop_login_setting_roots[] (installed in
	   preinit) in that order: ours is the first */
	aclient->set = other_sets[0];
}

void altpop_login_glue_vfuncs_init(struct client_vfuncs *v)
{
	v->create = altpop_login_glue_create;
}

void altpop_login_glue_preinit(void)
{
	login_set_roots = altpop_login_setting_roots;
}

void altpop_login_glue_settings_refresh(struct altpop_login_client *aclient)
{
	struct client *client = &aclient->common;
	const struct master_service_ssl_settings *ssl_set;
	const struct master_service_ssl_server_settings *ssl_server_set;
	void **other_sets;

	if (!client->ssl_servername_settings_read || aclient->sni_settings_read)
		return;
	aclient->sni_settings_read = TRUE;
	/* the lookup login-common's SNI callback made, from its cache */
	(void)login_settings_read(client->pool, &client->local_ip, &client->ip,
				  client->local_name, &ssl_set,
				  &ssl_server_set, &other_sets);
	aclient->set = other_sets[0];
}

int altpop_login_glue_addresses_changed(struct client *client,
					const char **error_r ATTR_UNUSED)
{
	/* 2.3's event fields are strings */
	event_add_str(client->event, "local_ip", net_ip2addr(&client->local_ip));
	event_add_int(client->event, "local_port", client->local_port);
	event_add_str(client->event, "remote_ip", net_ip2addr(&client->ip));
	event_add_int(client->event, "remote_port", client->remote_port);
	return 0;
}

void altpop_login_glue_settings_free(struct altpop_login_client *aclient)
{
	/* owned by login-common's settings pool */
	aclient->set = NULL;
}

void altpop_login_glue_set_auth_input(struct client_vfuncs *v,
				      void (*callback)(struct client *client))
{
	/* 2.3's reader has this very shape */
	v->auth_parse_response = callback;
}

void altpop_login_glue_auth_abort(struct client *client)
{
	client_auth_abort(client);
}

bool altpop_login_glue_tls_relay_possible(struct client *client ATTR_UNUSED)
{
	/* 2.3 has no multiplexed client output */
	return TRUE;
}
