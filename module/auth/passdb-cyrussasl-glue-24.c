/* SPDX-License-Identifier: LGPL-2.1-only */
/* cyrussasl passdb glue for Dovecot 2.4: settings from the passdb's
   named block (passdb_cyrussasl_app, _conf_path, _realm; see
   module/settings/cyrussasl-settings-24.c, which also makes it run in
   auth workers by default), in the passdb's interface
   passdb_cyrussasl. */

#include "auth-common.h"
#include "altpop-compat.h"
#include "settings.h"
#include "auth-cache.h"
#include "auth-settings.h"
#include "passdb.h"
#include "cyrussasl-settings-24.h"
#include "passdb-cyrussasl.h"

static const char *empty_to_null(pool_t pool, const char *value)
{
	return *value == '\0' ? NULL : p_strdup(pool, value);
}

/* The auth cache (auth_cache_size) keys the passdb's answers by the user
   name and the variables of its fields: libsasl2 reads one configuration
   per process, so nothing else can change the answer. */
static int
cyrussasl_set_cache_key(pool_t pool, struct event *event,
			struct passdb_module *module,
			ALTPOP_PASSDB_PREINIT_PARAMS const char **error_r)
{
	const struct auth_passdb_post_settings *post_set;
	int ret;

	if (settings_get(event, &auth_passdb_post_setting_parser_info,
			 SETTINGS_GET_FLAG_NO_CHECK |
			 SETTINGS_GET_FLAG_NO_EXPAND, &post_set, error_r) < 0)
		return -1;
	ret = altpop_passdb_set_cache_key(module, passdb_params, pool,
					  ALTPOP_CACHE_KEY_USER,
					  &post_set->fields, "cyrussasl",
					  error_r);
	settings_free(post_set);
	return ret;
}

static int
cyrussasl_preinit(pool_t pool, struct event *event,
		  ALTPOP_PASSDB_PREINIT_PARAMS
		  struct passdb_module **module_r, const char **error_r)
{
	const struct altpop_cyrussasl_settings *set;
	struct cyrussasl_passdb_module *module;

	if (settings_get(event, &altpop_cyrussasl_setting_parser_info,
			 SETTINGS_GET_FLAG_NO_EXPAND, &set, error_r) < 0)
		return -1;
	if (*set->app == '\0') {
		*error_r = "passdb_cyrussasl_app: empty (default: "
			CYRUSSASL_DEFAULT_APP ")";
		settings_free(set);
		return -1;
	}
	module = p_new(pool, struct cyrussasl_passdb_module, 1);
	module->set.app = p_strdup(pool, set->app);
	module->set.conf_path = empty_to_null(pool, set->conf_path);
	module->set.realm = empty_to_null(pool, set->realm);
	settings_free(set);

	if (!cyrussasl_settings_check(&module->set, error_r) ||
	    cyrussasl_set_cache_key(pool, event, &module->module,
				    ALTPOP_PASSDB_PARAMS_ARG error_r) < 0)
		return -1;
	*module_r = &module->module;
	return 0;
}

void cyrussasl_glue_log_password_mismatch(struct auth_request *request)
{
	auth_request_log_password_mismatch(request, authdb_event(request));
}

void cyrussasl_glue_log_unknown_user(struct auth_request *request)
{
	auth_request_log_unknown_user(request, authdb_event(request));
}

struct passdb_module_interface passdb_cyrussasl = {
	.name = "cyrussasl",
	.preinit = cyrussasl_preinit,
	.deinit = cyrussasl_deinit,
	.verify_plain = cyrussasl_verify_plain,
	.lookup_credentials = cyrussasl_lookup_credentials,
};
