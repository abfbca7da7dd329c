/* SPDX-License-Identifier: LGPL-2.1-only */
/* Settings of altpop-login. Compiled into the login binary and into the
   settings module that Dovecot's config process loads. */

#include "lib.h"
#include "settings-parser.h"
#include "login-settings.h"
#include "sdps-name.h"
#include "kpop-services.h"
#include "settings-compat.h"
#include "altpop-policy-settings.h"
#include "altpop-login-settings.h"

/* KPOP moved from listeners of altpop-login (named by this setting) to a
   login service of its own */
#define ALTPOP_KPOP_LISTENERS_REMOVED \
	"altpop_kpop_listeners was removed: KPOP has its own login " \
	"service now. Delete the setting and move the KPOP inet_listener " \
	"out of service altpop-login into service altpop-kpop-login " \
	"{ inet_listener kpop { port = 1109 } }"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct altpop_login_settings)

static const struct setting_define altpop_login_setting_defines[] = {
	DEF(UINT, altpop_login_max_bad_commands),
	DEF(STR, altpop_sdps_listeners),
	DEF(STR, altpop_sdps_separators),
	DEF(ALTPOP_FORMAT, altpop_sdps_auth_user),
	/* removed: hidden from doveconf -a, refused when set */
	DEF(STR_HIDDEN, altpop_kpop_listeners),
	DEF(STR, altpop_kpop_services),
	DEF(ALTPOP_BOOL, altpop_limits_per_user),
	ALTPOP_POLICY_SETTING_DEFINES(struct altpop_login_settings),
	SETTING_DEFINE_LIST_END
};

static const struct altpop_login_settings altpop_login_default_settings = {
	.altpop_login_max_bad_commands = 3,
	.altpop_sdps_listeners = "",
	.altpop_sdps_separators = "@+",
	.altpop_sdps_auth_user = "%{host}",
	.altpop_kpop_listeners = "",
	.altpop_kpop_services = KPOP_SERVICES_DEFAULT,
	ALTPOP_BOOL_DEFAULT(altpop_limits_per_user, FALSE),
	ALTPOP_POLICY_SETTING_DEFAULTS,
};

static bool
altpop_login_settings_check(void *_set, pool_t pool ATTR_UNUSED,
			    const char **error_r)
{
	struct altpop_login_settings *set = _set;

	if (!ALTPOP_BOOL_CHECK(set, altpop_limits_per_user, error_r) ||
	    !ALTPOP_POLICY_SETTINGS_CHECK(set, error_r))
		return FALSE;
	if (set->altpop_login_max_bad_commands == 0) {
		*error_r = "altpop_login_max_bad_commands must be at least 1";
		return FALSE;
	}
	for (const char *p = set->altpop_sdps_separators; *p != '\0'; p++) {
		if (*p != '@' && *p != '+' && *p != '%' && *p != '!') {
			*error_r = t_strdup_printf("altpop_sdps_separators: "
				"'%c' can't separate user and host (use @ + %% !)",
				*p);
			return FALSE;
		}
	}
	const struct sdps_name probe = { .user = "user", .host = "host" };
	const char *result, *error;
	if (sdps_name_expand(set->altpop_sdps_auth_user, &probe,
			     &result, &error) < 0) {
		*error_r = t_strdup_printf("altpop_sdps_auth_user: %s", error);
		return FALSE;
	}
	if (set->altpop_kpop_listeners[0] != '\0') {
		*error_r = ALTPOP_KPOP_LISTENERS_REMOVED;
		return FALSE;
	}
	if (!kpop_services_check(set->altpop_kpop_services, &error)) {
		*error_r = t_strdup_printf("altpop_kpop_services: %s", error);
		return FALSE;
	}
	return TRUE;
}

const struct setting_parser_info altpop_login_setting_parser_info = {
	ALTPOP_SETTING_INFO_HEAD(ALTPOP_LOGIN_SETTINGS_NAME, struct altpop_login_settings,
				 &login_setting_parser_info),
	.defines = altpop_login_setting_defines,
	.defaults = &altpop_login_default_settings,
	.check_func = altpop_login_settings_check,
};

#ifndef ALTPOP_DOVECOT_24
/* 2.3's login-common reads its own settings and ours in one lookup */
const struct setting_parser_info *altpop_login_setting_roots[] = {
	&login_setting_parser_info,
	&altpop_login_setting_parser_info,
	NULL
};

/* 2.3's config process sends a settings root only to the process of its
   module name and to those whose roots depend on it: altpop-kpop-login
   gets altpop-login's settings (and login-common's) through this root,
   which has none of its own. */
struct altpop_kpop_login_settings {
	int unused;
};
static const struct setting_define altpop_kpop_login_setting_defines[] = {
	SETTING_DEFINE_LIST_END
};
static const struct altpop_kpop_login_settings
	altpop_kpop_login_default_settings;
const struct setting_parser_info altpop_kpop_login_setting_parser_info = {
	ALTPOP_SETTING_INFO_HEAD("altpop-kpop-login",
				 struct altpop_kpop_login_settings,
				 &altpop_login_setting_parser_info),
	.defines = altpop_kpop_login_setting_defines,
	.defaults = &altpop_kpop_login_default_settings,
};
#endif
