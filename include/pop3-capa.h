/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_CAPA_H
#define POP3_CAPA_H

#include "pop3-lang.h"

/* The one place that builds CAPA replies (RFC 2449) for both processes. */

enum pop3_capa_flags {
	/* pre-auth: STARTTLS can be offered */
	POP3_CAPA_FLAG_STLS = 0x01,
	/* pre-auth: USER/PASS allowed on this connection */
	POP3_CAPA_FLAG_USER = 0x02,
	/* SDPS extensions (*ENV) available */
	POP3_CAPA_FLAG_SDPS = 0x04,
};

/* The site's policy capabilities (RFC 2449 sections 6.5 and 6.7). */
struct pop3_capa_policy {
	/* LOGIN-DELAY <secs>; 0: not announced */
	unsigned int login_delay_secs;
	/* EXPIRE <days>|NEVER; NULL or "": not announced */
	const char *expire;
	/* AUTHORIZATION state where userdb may give a user other values:
	   the values are followed by USER */
	bool per_user;
	/* RFC 6856: UTF8 with UTF-8 user names and passwords (UTF8 USER) */
	bool utf8;
	/* RFC 6856 section 3: LANG (both states, no arguments) */
	bool lang;
	/* the language of the reply's first line (RFC 6856 LANG) */
	enum pop3_lang reply_lang;
};

/* Append a complete multi-line CAPA reply ("+OK ..." through ".") to dest.
   sasl_mechs is a NULL-terminated list, or NULL for no SASL line. After
   login the flags USER and the mechanisms are the ones announced before
   login (RFC 2449 section 5). policy may be NULL (nothing announced). */
void pop3_capa_append_reply(string_t *dest, enum pop3_capa_flags flags,
			    const char *const *sasl_mechs,
			    const struct pop3_capa_policy *policy);

#endif
