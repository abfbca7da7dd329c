/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LOGIN_HANDOFF_H
#define LOGIN_HANDOFF_H

#include "pop3-lang.h"

/* What altpop-login tells the altpop process about a login, in front of
   the client's pipelined input (login-common's master data prefix):
     "ALTPOP-HANDOFF 2" { "\t" <item> } "\n"
   with the items, each at most once and in any order:
     "sdps\t" <view user> "\t" <host>   SDPS login (view user "" for a
                                       whole host account)
     "user"                            CAPA announced USER before login
     "sasl\t" <mech> { " " <mech> }     CAPA announced these SASL mechanisms
     "lang\t" <tag>                     RFC 6856 LANG chose this language
                                       before login (include/pop3-lang.h;
                                       absent: the default)
   RFC 2449 section 5: what CAPA announced before login it announces after
   login too, so the altpop process needs to know it.

   The contract between the two binaries: altpop-login always sends it
   (module/login/login-handoff-send.c); the altpop process refuses a
   session that comes without it or with another version
   (module/mail/main.c). A change of format changes the number in the
   magic (2: "lang" added). */

#define LOGIN_HANDOFF_MAGIC_PREFIX "ALTPOP-HANDOFF "
#define LOGIN_HANDOFF_MAGIC LOGIN_HANDOFF_MAGIC_PREFIX "2"
/* a handoff line is never longer than this (SDPS names of at most 255
   bytes each, tab-escaped, and the SASL mechanism list fit; the whole
   handoff with the client's pipelined input must fit in Dovecot's
   MASTER_AUTH_MAX_DATA_SIZE) */
#define LOGIN_HANDOFF_MAX_LEN 2048
/* how much of another version's magic the log line shows */
#define LOGIN_HANDOFF_MAX_VERSION_LEN 16

struct login_handoff {
	bool sdps;
	const char *sdps_user;
	const char *sdps_host;

	/* the AUTHORIZATION state's CAPA: USER, and the SASL mechanisms
	   (NULL or empty: no SASL line) */
	bool capa_user;
	const char *const *capa_sasl_mechs;

	/* RFC 6856 LANG: the session's language */
	enum pop3_lang lang;
};

void login_handoff_append(string_t *dest, const struct login_handoff *handoff);

/* Parse a handoff at the start of data. Returns 1 and the number of bytes
   it used, 0 if data does not start with a handoff of any version
   (nothing consumed), -1 if it starts with this version's magic but is
   malformed, or -2 if it is a handoff of another version (*version_r:
   what it says, for the log). Strings are allocated from the data
   stack. */
int login_handoff_parse(const unsigned char *data, size_t size,
			struct login_handoff *handoff_r, size_t *consumed_r,
			const char **version_r);

#endif
