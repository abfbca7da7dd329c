/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 6856 LANG in altpop-login (altpop_lang): the command before login,
   the client's language for altpop-login's own texts (module/lib's table,
   include/pop3-lang.h), and the texts login-common writes for us (failed
   authentication, STLS, idle disconnects) in that language. The language
   goes on to the post-login process in the login handoff. */

#include "login-common.h"
#include "str.h"
#include "altpop-login.h"

/* login-common's client texts that have a translation. The English text
   depends on the Dovecot version, so it is matched with login-common's
   own macros where it has them. */
static const struct {
	const char *text;
	enum pop3_msg msg;
} login_common_texts[] = {
	{ AUTH_FAILED_MSG, POP3_MSG_AUTH_FAILED },
	{ AUTH_TEMP_FAILED_MSG, POP3_MSG_AUTH_TEMP_FAILED },
	{ ALTPOP_AUTH_CLEARTEXT_DISABLED_MSG, POP3_MSG_CLEARTEXT_DISALLOWED },
	{ "Disconnected for inactivity during authentication.",
	  POP3_MSG_IDLE_DISCONNECT_AUTH },
	{ "Disconnected for inactivity.", POP3_MSG_IDLE_DISCONNECT },
	{ "Begin TLS negotiation now.", POP3_MSG_STLS_BEGIN },
	{ "TLS is already active.", POP3_MSG_STLS_ACTIVE },
	{ "Authentication aborted by client.", POP3_MSG_AUTH_ABORTED },
};

const char *altpop_login_text(struct altpop_login_client *aclient,
			      enum pop3_msg msg)
{
	return pop3_lang_text(aclient->lang, msg);
}

const char *altpop_login_common_text(struct client *client, const char *text)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const char *code = "", *rest = text, *end;

	if (aclient->lang == POP3_LANG_EN)
		return text;
	/* a response code stays as it is (RFC 6856 section 3) */
	if (text[0] == '[' && (end = strstr(text, "] ")) != NULL) {
		code = t_strdup_until(text, end + 2);
		rest = end + 2;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(login_common_texts); i++) {
		size_t len = strlen(login_common_texts[i].text);

		/* a known sentence, possibly with details after it
		   (AUTH_TEMP_FAILED_MSG" [host:time]") */
		if (strncmp(rest, login_common_texts[i].text, len) == 0) {
			return t_strconcat(code, altpop_login_text(aclient,
				login_common_texts[i].msg), rest + len, NULL);
		}
	}
	/* a passdb's reason or other text we have no translation of */
	return text;
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
