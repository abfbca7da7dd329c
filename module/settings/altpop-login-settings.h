#ifndef ALTPOP_LOGIN_SETTINGS_H
#define ALTPOP_LOGIN_SETTINGS_H

#include "settings-compat.h"

/* Settings of the pre-auth process "altpop-login". */
struct altpop_login_settings {
	pool_t pool;
	unsigned int altpop_login_max_bad_commands;
	/* SDPS login names: on which inet_listeners ("*" = all) */
	const char *altpop_sdps_listeners;
	const char *altpop_sdps_separators;
	/* the Dovecot user an SDPS name authenticates as */
	const char *altpop_sdps_auth_user;
	/* removed (KPOP has its own service, altpop-kpop-login): only
	   there to refuse a configuration that still sets it */
	const char *altpop_kpop_listeners;
	/* KPOP: services of the principals tickets may be for */
	const char *altpop_kpop_services;
	/* RFC 2449 policy announced by CAPA before login (the post-login
	   process enforces it) */
	unsigned int altpop_login_delay;
	ALTPOP_BOOL(altpop_limits_per_user);
	/* RFC 2449 EXPIRE (expire-policy.h) */
	const char *altpop_expire;
	/* RFC 6856 UTF8 */
	ALTPOP_BOOL(altpop_utf8);
	/* RFC 6856 LANG */
	ALTPOP_BOOL(altpop_lang);
};

extern const struct setting_parser_info altpop_login_setting_parser_info;
/* Dovecot 2.3 only: login_set_roots of both login binaries */
extern const struct setting_parser_info *altpop_login_setting_roots[];
/* Dovecot 2.3 only: the settings root of altpop-kpop-login's module name
   (its own settings are altpop-login's, see the .c file) */
extern const struct setting_parser_info altpop_kpop_login_setting_parser_info;

#endif
