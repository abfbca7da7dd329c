/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_POLICY_SETTINGS_H
#define ALTPOP_POLICY_SETTINGS_H

/* The policy settings both processes read: altpop_login_delay and
   altpop_expire (RFC 2449 LOGIN-DELAY and EXPIRE: altpop-login announces
   them in CAPA, the post-login process enforces them and announces the
   user's values), altpop_utf8 and altpop_lang (RFC 6856). Their fields,
   defines, defaults and checks are written once, here; each settings
   struct (altpop-settings.h, altpop-login-settings.h) has them through
   these macros, so code reads set->altpop_expire etc. in both. */

#include "settings-compat.h"
#include "expire-policy.h"

/* in the settings struct */
#define ALTPOP_POLICY_SETTINGS_FIELDS \
	/* RFC 2449 LOGIN-DELAY, seconds (0: off); userdb may override */ \
	unsigned int altpop_login_delay; \
	/* RFC 2449 EXPIRE (expire-policy.h); userdb may override */ \
	const char *altpop_expire; \
	/* RFC 6856 UTF8 (the command is altpop-login's; CAPA after login \
	   announces it too, RFC 2449 section 5) */ \
	ALTPOP_BOOL(altpop_utf8); \
	/* RFC 6856 LANG (before login altpop-login's; the language chosen \
	   then comes in the login handoff) */ \
	ALTPOP_BOOL(altpop_lang); \
	/* generated: altpop_expire parsed by the check (EXPIRE_POLICY_OFF, \
	   EXPIRE_POLICY_NEVER or days) */ \
	int parsed_expire_days

/* in the setting_define array of struct_name */
#define ALTPOP_POLICY_SETTING_DEFINES(struct_name) \
	SETTING_DEFINE_STRUCT_UINT("altpop_login_delay", altpop_login_delay, \
				   struct_name), \
	SETTING_DEFINE_STRUCT_STR("altpop_expire", altpop_expire, \
				  struct_name), \
	SETTING_DEFINE_STRUCT_ALTPOP_BOOL("altpop_utf8", altpop_utf8, \
					  struct_name), \
	SETTING_DEFINE_STRUCT_ALTPOP_BOOL("altpop_lang", altpop_lang, \
					  struct_name)

/* in the defaults */
#define ALTPOP_POLICY_SETTING_DEFAULTS \
	.altpop_login_delay = 0, \
	.altpop_expire = "", \
	ALTPOP_BOOL_DEFAULT(altpop_utf8, FALSE), \
	ALTPOP_BOOL_DEFAULT(altpop_lang, FALSE)

/* in the check function: TRUE, or FALSE with *error_r naming the
   setting. Fills parsed_expire_days. */
#define ALTPOP_POLICY_SETTINGS_CHECK(set, error_r) \
	(ALTPOP_BOOL_CHECK(set, altpop_utf8, error_r) && \
	 ALTPOP_BOOL_CHECK(set, altpop_lang, error_r) && \
	 expire_policy_setting_check((set)->altpop_expire, \
				     &(set)->parsed_expire_days, error_r))

#endif
