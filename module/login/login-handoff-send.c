/* SPDX-License-Identifier: LGPL-2.1-only */
/* The producer of the login -> post-login handoff: after a successful
   login altpop-login puts it in front of the client's pipelined input
   (login-common's master data prefix). The contract (format, version) is
   include/login-handoff.h with its codec in module/lib/login-handoff.c;
   the consumer is module/mail/main.c, which refuses a session without
   it. */

#include "login-common.h"
#include "str.h"
#include "login-handoff.h"
#include "altpop-login.h"

bool altpop_login_check_login(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	struct login_handoff handoff;
	enum pop3_capa_flags capa_flags;
	string_t *str = t_str_new(128);

	i_zero(&handoff);
	altpop_login_capa(client, &capa_flags, &handoff.capa_sasl_mechs);
	handoff.capa_user = (capa_flags & POP3_CAPA_FLAG_USER) != 0;
	/* RFC 6856 LANG: the language stays after login */
	handoff.lang = aclient->lang;
	if (aclient->sdps_login) {
		handoff.sdps = TRUE;
		handoff.sdps_user = aclient->sdps_user;
		handoff.sdps_host = aclient->sdps_host;
	} else if (altpop_sdps_enabled(aclient) && client->virtual_user != NULL) {
		/* SASL (or KPOP) login on an SDPS listener: the account
		   is the host; its whole maildrop, with *ENV */
		handoff.sdps = TRUE;
		handoff.sdps_user = "";
		handoff.sdps_host = client->virtual_user;
	}
	login_handoff_append(str, &handoff);
	if (str_len(str) > LOGIN_MAX_MASTER_PREFIX_LEN &&
	    handoff.capa_sasl_mechs != NULL) {
		/* the pipelined input's room is counted without it: the
		   post-login CAPA goes without its SASL line instead */
		e_debug(client->event, "SASL mechanism list too long for the "
			"login handoff: left out of the post-login CAPA");
		handoff.capa_sasl_mechs = NULL;
		str_truncate(str, 0);
		login_handoff_append(str, &handoff);
	}
	i_free(client->master_data_prefix);
	client->master_data_prefix = i_memdup(str_data(str), str_len(str));
	client->master_data_prefix_len = str_len(str);
	return TRUE;
}
