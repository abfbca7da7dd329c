/* SPDX-License-Identifier: LGPL-2.1-only */
/* cyrussasl passdb glue for Dovecot 2.3: settings from the passdb's
   args ("app=pop conf_path=DIR realm=REALM cache_key=%u"), in the passdb's
   interface passdb_cyrussasl. */

#include "auth-common.h"
#include "auth-cache.h"
#include "passdb.h"
#include "passdb-cyrussasl.h"

static struct passdb_module *
cyrussasl_preinit(pool_t pool, const char *args)
{
	struct cyrussasl_passdb_module *module;
	const char *const *arg, *key, *value, *error;

	module = p_new(pool, struct cyrussasl_passdb_module, 1);
	module->set.app = CYRUSSASL_DEFAULT_APP;
	for (arg = t_strsplit_spaces(args, " "); *arg != NULL; arg++) {
		value = strchr(*arg, '=');
		if (value == NULL) {
			i_fatal("passdb cyrussasl: %s: not key=value "
				"(args = app=NAME conf_path=DIR realm=REALM "
				"cache_key=%%u)",
				*arg);
		}
		key = t_strdup_until(*arg, value++);
		if (strcmp(key, "cache_key") == 0) {
			/* the auth cache (auth_cache_size), as a PAM passdb's
			   cache_key: the variables that change the answer */
			module->module.default_cache_key =
				auth_cache_parse_key(pool, value);
		} else if (!cyrussasl_settings_parse(pool, &module->set, key,
						     value, &error))
			i_fatal("passdb cyrussasl: %s", error);
	}
	if (!cyrussasl_settings_check(&module->set, &error))
		i_fatal("passdb cyrussasl: %s", error);

	/* sasl_checkpass() may block (saslauthd, LDAP): auth workers */
	module->module.blocking = TRUE;
	module->module.default_pass_scheme = "PLAIN";
	return &module->module;
}

void cyrussasl_glue_log_password_mismatch(struct auth_request *request)
{
	auth_request_log_password_mismatch(request, AUTH_SUBSYS_DB);
}

void cyrussasl_glue_log_unknown_user(struct auth_request *request)
{
	auth_request_log_unknown_user(request, AUTH_SUBSYS_DB);
}

struct passdb_module_interface passdb_cyrussasl = {
	.name = "cyrussasl",
	.preinit = cyrussasl_preinit,
	.deinit = cyrussasl_deinit,
	.verify_plain = cyrussasl_verify_plain,
	.lookup_credentials = cyrussasl_lookup_credentials,
};
