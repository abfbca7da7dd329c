/* SPDX-License-Identifier: LGPL-2.1-only */
/* Dovecot 2.4: the cyrussasl passdb's settings, in a passdb block
     passdb NAME { driver = cyrussasl; passdb_cyrussasl_app = pop ... }
   Built into the settings module (so the config process knows them) and
   into the passdb module (which reads them); see cyrussasl-settings-24.h. */

#include "lib.h"
#include "settings-parser.h"
#include "cyrussasl-settings-24.h"

#undef DEF
#define DEF(type, name) \
	SETTING_DEFINE_STRUCT_##type("passdb_cyrussasl_"#name, name, \
				     struct altpop_cyrussasl_settings)

static const struct setting_define altpop_cyrussasl_setting_defines[] = {
	{ .type = SET_FILTER_NAME, .key = "passdb_cyrussasl", },
	DEF(STR, app),
	DEF(STR, conf_path),
	DEF(STR, realm),

	SETTING_DEFINE_LIST_END
};

static const struct altpop_cyrussasl_settings altpop_cyrussasl_default_settings = {
	.app = "pop",
	.conf_path = "",
	.realm = "",
};

/* sasl_checkpass() may block (saslauthd, LDAP): auth workers by default */
static const struct setting_keyvalue altpop_cyrussasl_default_settings_keyvalue[] = {
	{ "passdb_cyrussasl/passdb_use_worker", "yes" },
	{ NULL, NULL }
};

const struct setting_parser_info altpop_cyrussasl_setting_parser_info = {
	.name = "altpop_cyrussasl",

	.defines = altpop_cyrussasl_setting_defines,
	.defaults = &altpop_cyrussasl_default_settings,
	.default_settings = altpop_cyrussasl_default_settings_keyvalue,

	.struct_size = sizeof(struct altpop_cyrussasl_settings),
	.pool_offset1 = 1 + offsetof(struct altpop_cyrussasl_settings, pool),
};
