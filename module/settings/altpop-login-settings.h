/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_LOGIN_SETTINGS_H
#define ALTPOP_LOGIN_SETTINGS_H

#include "settings-compat.h"
#include "altpop-policy-settings.h"

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
	/* RFC 2449 USER variants in CAPA before login */
	ALTPOP_BOOL(altpop_limits_per_user);
	/* altpop_login_delay, altpop_expire, altpop_utf8, altpop_lang:
	   announced by CAPA before login (the post-login process enforces
	   them) */
	ALTPOP_POLICY_SETTINGS_FIELDS;
};

extern const struct setting_parser_info altpop_login_setting_parser_info;
/* Dovecot 2.3 only: login_set_roots of both login binaries */
extern const struct setting_parser_info *altpop_login_setting_roots[];
/* Dovecot 2.3 only: the settings root of altpop-kpop-login's module name
   (its own settings are altpop-login's, see the .c file) */
extern const struct setting_parser_info altpop_kpop_login_setting_parser_info;

#endif
