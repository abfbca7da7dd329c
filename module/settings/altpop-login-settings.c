/* Settings of altpop-login. Compiled into the login binary and into the
   settings module that Dovecot's config process loads. */

#include "lib.h"
#include "settings-parser.h"
#include "login-settings.h"
#include "altpop-login-settings.h"

#include <stddef.h>

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type(#name, name, struct altpop_login_settings)

static const struct setting_define altpop_login_setting_defines[] = {
	DEF(UINT, altpop_login_max_bad_commands),
	SETTING_DEFINE_LIST_END
};

static const struct altpop_login_settings altpop_login_default_settings = {
	.altpop_login_max_bad_commands = 3,
};

static bool
altpop_login_settings_check(void *_set, pool_t pool ATTR_UNUSED,
			    const char **error_r)
{
	struct altpop_login_settings *set = _set;

	if (set->altpop_login_max_bad_commands == 0) {
		*error_r = "altpop_login_max_bad_commands must be at least 1";
		return FALSE;
	}
	return TRUE;
}

static const struct setting_parser_info *altpop_login_setting_dependencies[] = {
	&login_setting_parser_info,
	NULL
};

const struct setting_parser_info altpop_login_setting_parser_info = {
	.module_name = "altpop-login",
	.defines = altpop_login_setting_defines,
	.defaults = &altpop_login_default_settings,

	.type_offset = SIZE_MAX,
	.struct_size = sizeof(struct altpop_login_settings),
	.parent_offset = SIZE_MAX,

	.check_func = altpop_login_settings_check,
	.dependencies = altpop_login_setting_dependencies,
};

const struct setting_parser_info *altpop_login_setting_roots[] = {
	&login_setting_parser_info,
	&altpop_login_setting_parser_info,
	NULL
};
