/* SPDX-License-Identifier: LGPL-2.1-only */
/* CAPA text (RFC 2449, RFC 3206, RFC 5034). */

#include "lib.h"
#include "str.h"
#include "pop3-lang.h"
#include "pop3-capa.h"

#define POP3_CAPA_IMPLEMENTATION "altpop"

static void pop3_capa_append_policy(string_t *dest,
				    const struct pop3_capa_policy *policy)
{
	const char *user = policy->per_user ? " USER" : "";

	/* per user: a user may have a delay where the site has none */
	if (policy->login_delay_secs > 0 || policy->per_user) {
		str_printfa(dest, "LOGIN-DELAY %u%s\r\n",
			    policy->login_delay_secs, user);
	}
	if (policy->expire != NULL && policy->expire[0] != '\0')
		str_printfa(dest, "EXPIRE %s%s\r\n", policy->expire, user);
	if (policy->utf8)
		str_append(dest, "UTF8 USER\r\n");
	if (policy->lang)
		str_append(dest, "LANG\r\n");
}

void pop3_capa_append_reply(string_t *dest, enum pop3_capa_flags flags,
			    const char *const *sasl_mechs,
			    const struct pop3_capa_policy *policy)
{
	str_printfa(dest, "+OK %s\r\n", pop3_lang_text(policy == NULL ?
		POP3_LANG_DEFAULT : policy->reply_lang, POP3_MSG_CAPA_FOLLOWS));
	str_append(dest, "CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\n"
		   "PIPELINING\r\nAUTH-RESP-CODE\r\n");
	if ((flags & POP3_CAPA_FLAG_STLS) != 0)
		str_append(dest, "STLS\r\n");
	if ((flags & POP3_CAPA_FLAG_USER) != 0)
		str_append(dest, "USER\r\n");
	if (sasl_mechs != NULL && sasl_mechs[0] != NULL) {
		str_append(dest, "SASL");
		for (unsigned int i = 0; sasl_mechs[i] != NULL; i++) {
			str_append_c(dest, ' ');
			str_append(dest, sasl_mechs[i]);
		}
		str_append(dest, "\r\n");
	}
	if ((flags & POP3_CAPA_FLAG_SDPS) != 0)
		str_append(dest, "X-SDPS\r\n");
	if (policy != NULL)
		pop3_capa_append_policy(dest, policy);
	str_append(dest, "IMPLEMENTATION "POP3_CAPA_IMPLEMENTATION"\r\n");
	str_append(dest, ".\r\n");
}
