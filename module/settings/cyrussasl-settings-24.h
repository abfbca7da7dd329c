/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef CYRUSSASL_SETTINGS_24_H
#define CYRUSSASL_SETTINGS_24_H

/* Dovecot 2.4: the cyrussasl passdb's settings (passdb_cyrussasl_*),
   known to the config process through altpop's settings module and read
   by the passdb (module/auth/passdb-cyrussasl-glue-24.c). */

struct altpop_cyrussasl_settings {
	pool_t pool;
	const char *app;
	/* "": libsasl2's default directory */
	const char *conf_path;
	/* "": libsasl2's default realm */
	const char *realm;
};

extern const struct setting_parser_info altpop_cyrussasl_setting_parser_info;

#endif
