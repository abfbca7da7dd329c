/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 6856 LANG in altpop-login (altpop_lang): the command before login,
   the client's language for altpop-login's own texts (module/lib's table,
   include/pop3-lang.h), each looked up by its id where it is sent. The
   texts login-common writes (failed authentication, STLS, idle
   disconnects) are Dovecot's and go out as Dovecot writes them. The
   language goes on to the post-login process in the login handoff. */

#include "login-common.h"
#include "str.h"
#include "altpop-login.h"

const char *altpop_login_text(struct altpop_login_client *aclient,
			      enum pop3_msg msg)
{
	return pop3_lang_text(aclient->lang, msg);
}

int altpop_cmd_lang(struct altpop_login_client *aclient, const char *args)
{
	string_t *str;

	if (!aclient->set->altpop_lang) {
		/* off: as if there were no such command */
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UNKNOWN_COMMAND)) ? 1 : 0;
	}
	str = t_str_new(128);
	pop3_lang_command(args, &aclient->lang, str);
	client_send_raw(&aclient->common, str_c(str));
	return 1;
}
