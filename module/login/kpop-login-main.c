/* SPDX-License-Identifier: LGPL-2.1-only */
/* altpop-kpop-login: the pre-auth process of KPOP (Kerberos V5 sendauth,
   then POP3 until PASS), its own login service beside altpop-login. It
   hands logged-in clients to the same post-login service (login/altpop).
   The connection is kpop-session.c; what both login binaries share is in
   the login library (login-client.c and the files beside it). */

#include "login-common.h"
#include "altpop-login.h"
#include "login-glue.h"
#include "kpop-session.h"

static struct client_vfuncs kpop_login_vfuncs = {
	.alloc = kpop_session_alloc,
	/* .create (2.4: also .reload_config), .auth_parse_response: see
	   main() */
	.destroy = kpop_session_destroy,
	.notify_auth_ready = kpop_session_start,
	.notify_disconnect = kpop_session_notify_disconnect,
	.starttls = kpop_session_starttls,
	.input = kpop_session_input,
	.auth_send_challenge = kpop_session_auth_challenge,
	.auth_result = kpop_session_auth_result,
	ALTPOP_LOGIN_COMMON_VFUNCS,
};

static struct login_binary kpop_login_binary =
	ALTPOP_LOGIN_BINARY("altpop-kpop-login", &kpop_login_vfuncs,
			    .default_port = 1109);

int main(int argc, char *argv[])
{
	altpop_login_glue_vfuncs_init(&kpop_login_vfuncs);
	altpop_login_glue_set_auth_input(&kpop_login_vfuncs,
					 kpop_session_input);
	altpop_login_glue_binary_init(&kpop_login_binary);
	return login_binary_run(&kpop_login_binary, argc, argv);
}
