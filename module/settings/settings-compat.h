/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_SETTINGS_COMPAT_H
#define ALTPOP_SETTINGS_COMPAT_H

/* What differs between Dovecot 2.3 and 2.4 in how a settings struct is
   described. The defines, defaults and checks themselves are shared
   (altpop-settings.c, altpop-login-settings.c); the services and module
   exports live in settings-module-23.c / settings-module-24.c. */

#include "altpop-compat.h"

#include <stddef.h>

/* yes/no settings. In the struct: ALTPOP_BOOL(name); the define:
   DEF(ALTPOP_BOOL, name); the default: ALTPOP_BOOL_DEFAULT(name, value);
   the check function: ALTPOP_BOOL_CHECK(set, name, error_r). Code reads
   set->name, a bool, on both versions.

   2.4: a typed BOOL; Dovecot's parser refuses a bad value with an error
   that names the setting ("altpop_lock_session: Invalid boolean value:
   maybe (use yes or no)").
   2.3: Dovecot's parser's error for a bad boolean does not name the setting
   (doveconf 2.3.19.1 says only "Invalid boolean value: maybe (use yes or
   no)" after the file and line), and altpop promises that a typo's error
   names the setting (tests/integration/test_settings.py). So on 2.3 the
   config process keeps the value as a string (name##_yesno) and the check
   function turns it into the bool with altpop_settings_get_bool(), which
   accepts what Dovecot's boolean parser accepts and names the setting. */
#ifdef ALTPOP_DOVECOT_24
#  define ALTPOP_BOOL(name) bool name
#  define SETTING_DEFINE_STRUCT_ALTPOP_BOOL SETTING_DEFINE_STRUCT_BOOL
#  define ALTPOP_BOOL_DEFAULT(name, value) .name = (value)
#  define ALTPOP_BOOL_CHECK(set, name, error_r) TRUE
#else
#  define ALTPOP_BOOL(name) bool name; const char *name##_yesno
#  define SETTING_DEFINE_STRUCT_ALTPOP_BOOL(key, name, struct_name) \
	SETTING_DEFINE_STRUCT_STR(key, name##_yesno, struct_name)
#  define ALTPOP_BOOL_DEFAULT(name, value) \
	.name##_yesno = ((value) ? "yes" : "no")
#  define ALTPOP_BOOL_CHECK(set, name, error_r) \
	altpop_settings_get_bool(#name, (set)->name##_yesno, &(set)->name, \
				 error_r)
static inline bool
altpop_settings_get_bool(const char *name, const char *value, bool *result_r,
			 const char **error_r)
{
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "y") == 0 ||
	    strcmp(value, "1") == 0)
		*result_r = TRUE;
	else if (strcasecmp(value, "no") == 0)
		*result_r = FALSE;
	else {
		*error_r = t_strdup_printf("%s: Invalid boolean value: %s "
					   "(use yes or no)", name, value);
		return FALSE;
	}
	return TRUE;
}
#endif

#ifdef ALTPOP_DOVECOT_24
/* A string the settings reader expands (%{user}, %{home}, ...). */
#  define SETTING_DEFINE_STRUCT_ALTPOP_VARS SETTING_DEFINE_STRUCT_STR
/* A format altpop expands itself: the settings reader leaves it alone. */
#  define SETTING_DEFINE_STRUCT_ALTPOP_FORMAT SETTING_DEFINE_STRUCT_STR_NOVARS
#  define ALTPOP_SETTING_INFO_HEAD(_name, _struct, ...) \
	.name = (_name), \
	.struct_size = sizeof(_struct), \
	.pool_offset1 = 1 + offsetof(_struct, pool)
/* the name of altpop-login's settings info */
#  define ALTPOP_LOGIN_SETTINGS_NAME "altpop_login"
/* the names stock 2.4 pop3 uses in pop3_logout_format */
#  define ALTPOP_LOGOUT_FORMAT_DEFAULT \
	"top=%{top_count}/%{top_bytes}, retr=%{retr_count}/%{retr_bytes}, " \
	"del=%{deleted_count}/%{message_count}, size=%{message_bytes}"
#else
#  define SETTING_DEFINE_STRUCT_ALTPOP_VARS SETTING_DEFINE_STRUCT_STR_VARS
#  define SETTING_DEFINE_STRUCT_ALTPOP_FORMAT SETTING_DEFINE_STRUCT_STR
/* 2.3's config process sends a settings root only to the process whose
   module name it carries: the login process asks for "altpop-login" */
#  define ALTPOP_LOGIN_SETTINGS_NAME "altpop-login"
/* the extra arguments are the settings infos this one depends on */
#  define ALTPOP_SETTING_INFO_HEAD(_name, _struct, ...) \
	.module_name = (_name), \
	.type_offset = SIZE_MAX, \
	.parent_offset = SIZE_MAX, \
	.struct_size = sizeof(_struct), \
	.dependencies = (const struct setting_parser_info *[]) \
		{ __VA_ARGS__, NULL }
#  define ALTPOP_LOGOUT_FORMAT_DEFAULT \
	"top=%t/%p, retr=%r/%b, del=%d/%m, size=%s"
#endif

#endif
