/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop-login: the pre-auth POP3 process. Owns the banner and the input
   loop; what it shares with altpop-kpop-login is in login-client.c. */

#include "login-common.h"
#include "ioloop.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
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

/* The listener name altpop-login's KPOP takeover used (until KPOP got its
   own login service): a listener of that name left in service
   altpop-login after an upgrade would greet KPOP clients with POP3. */
#define ALTPOP_LOGIN_OLD_KPOP_LISTENER "kpop"

static void altpop_login_notify_auth_ready(struct client *client)
{
	if (client->listener_name != NULL &&
	    strcmp(client->listener_name, ALTPOP_LOGIN_OLD_KPOP_LISTENER) == 0) {
		e_error(client->event, "inet_listener kpop is in service "
			"altpop-login, which does not speak KPOP: move it "
			"into service altpop-kpop-login { inet_listener kpop "
			"{ port = 1109 } } (see the README, KPOP)");
		client_destroy(client, "KPOP listener in service altpop-login");
		return;
	}
	client->io = io_add_istream(client->input, client_input, client);
	altpop_login_send_banner(client);
}

static struct client_vfuncs altpop_login_vfuncs = {
	.alloc = altpop_login_client_alloc,
	/* .create (2.4: also .reload_config): see main() */
	.destroy = altpop_login_client_destroy,
	.notify_auth_ready = altpop_login_notify_auth_ready,
	.notify_disconnect = altpop_login_notify_disconnect,
	.starttls = altpop_login_starttls,
	.input = altpop_login_input,
	.auth_result = altpop_login_auth_result,
	.input_next_cmd = altpop_login_input_next_cmd,
	ALTPOP_LOGIN_COMMON_VFUNCS,
};

static struct login_binary altpop_login_binary =
	ALTPOP_LOGIN_BINARY("altpop-login", &altpop_login_vfuncs,
			    .default_port = 110, .default_ssl_port = 995);

int main(int argc, char *argv[])
{
	altpop_login_glue_vfuncs_init(&altpop_login_vfuncs);
	altpop_login_glue_binary_init(&altpop_login_binary);
	return login_binary_run(&altpop_login_binary, argc, argv);
}
