#ifndef ALTPOP_SETTINGS_COMPAT_H
#define ALTPOP_SETTINGS_COMPAT_H

/* What differs between Dovecot 2.3 and 2.4 in how a settings struct is
   described. The defines, defaults and checks themselves are shared
   (altpop-settings.c, altpop-login-settings.c); the services and module
   exports live in settings-module-23.c / settings-module-24.c. */

#include "altpop-compat.h"

#include <stddef.h>

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
