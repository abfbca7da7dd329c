/* SPDX-License-Identifier: LGPL-2.1-only */
/* The cyrussasl passdb's logic: plaintext passwords checked with
   sasl_checkpass() of the Cyrus SASL library, so whatever the site's
   <app>.conf says answers (pwcheck_method: auxprop with sasldb2, or
   saslauthd). Runs in auth worker processes (the passdb is blocking);
   libsasl2 is initialised there on the first request. Works with the
   version glue behind passdb-cyrussasl.h. */

#include "auth-common.h"
#include "str.h"
#include "passdb.h"
#include "passdb-cyrussasl.h"

#include <sys/stat.h>
#include <sasl/sasl.h>
#include <sasl/prop.h>

struct module;

const char *authdb_cyrussasl_version = DOVECOT_ABI_VERSION;

void authdb_cyrussasl_init(struct module *module);
void authdb_cyrussasl_deinit(void);

/* the password of the PLAIN exchange a credentials lookup makes: never
   checked against anything */
#define CYRUSSASL_LOOKUP_DUMMY_PASSWORD "x"

/* the function type libsasl2's callback table holds every callback as */
#define CYRUSSASL_CB(fn) ((int (*)(void))(void (*)(void))(fn))

/* libsasl2's server side is process-global: one application name and
   configuration directory per auth worker process */
static struct {
	bool initialized;
	char *app;
	char *conf_path;
} cyrussasl_global;

bool cyrussasl_settings_parse(pool_t pool, struct cyrussasl_settings *set,
			      const char *key, const char *value,
			      const char **error_r)
{
	if (*value == '\0') {
		*error_r = t_strdup_printf("%s: empty value", key);
		return FALSE;
	}
	if (strcmp(key, "app") == 0)
		set->app = p_strdup(pool, value);
	else if (strcmp(key, "conf_path") == 0)
		set->conf_path = p_strdup(pool, value);
	else if (strcmp(key, "realm") == 0)
		set->realm = p_strdup(pool, value);
	else {
		*error_r = t_strdup_printf(
			"Unknown setting: %s (known: app, conf_path, realm)",
			key);
		return FALSE;
	}
	return TRUE;
}

bool cyrussasl_settings_check(const struct cyrussasl_settings *set,
			      const char **error_r)
{
	const char *path;
	struct stat st;

	if (strchr(set->app, '/') != NULL) {
		*error_r = t_strdup_printf(
			"app=%s: an application name, not a path (the "
			"directory of %s.conf goes in conf_path)",
			set->app, set->app);
		return FALSE;
	}
	if (set->conf_path == NULL)
		return TRUE;
	path = t_strdup_printf("%s/%s.conf", set->conf_path, set->app);
	if (stat(path, &st) < 0) {
		*error_r = t_strdup_printf(
			"conf_path=%s: stat(%s) failed: %m (create the Cyrus "
			"SASL configuration of app=%s there, or fix conf_path)",
			set->conf_path, path, set->app);
		return FALSE;
	}
	return TRUE;
}

static int
cyrussasl_getconfpath(void *context, char **path_r)
{
	*path_r = context;
	return SASL_OK;
}

static int
cyrussasl_log(void *context, int level, const char *message)
{
	struct auth_request *request = context;
	struct event *event = request != NULL ? authdb_event(request) :
		auth_event;

	switch (level) {
	case SASL_LOG_NONE:
	case SASL_LOG_PASS:
		/* SASL_LOG_PASS may name passwords: never logged */
		break;
	case SASL_LOG_ERR:
	case SASL_LOG_FAIL:
		e_error(event, "libsasl2: %s", message);
		break;
	case SASL_LOG_WARN:
		e_warning(event, "libsasl2: %s", message);
		break;
	case SASL_LOG_NOTE:
		e_info(event, "libsasl2: %s", message);
		break;
	default:
		e_debug(event, "libsasl2: %s", message);
		break;
	}
	return SASL_OK;
}

static const char *
cyrussasl_conf_file(const struct cyrussasl_settings *set)
{
	if (set->conf_path != NULL)
		return t_strdup_printf("%s/%s.conf", set->conf_path, set->app);
	return t_strdup_printf("%s.conf in libsasl2's configuration "
			       "directory (set conf_path to name one)",
			       set->app);
}

static bool
cyrussasl_global_init(const struct cyrussasl_settings *set,
		      struct event *event)
{
	static sasl_callback_t callbacks[] = {
		{ SASL_CB_LOG, CYRUSSASL_CB(cyrussasl_log), NULL },
		{ SASL_CB_GETCONFPATH, CYRUSSASL_CB(cyrussasl_getconfpath),
		  NULL },
		{ SASL_CB_LIST_END, NULL, NULL }
	};
	int ret;

	if (cyrussasl_global.initialized) {
		if (strcmp(cyrussasl_global.app, set->app) != 0 ||
		    null_strcmp(cyrussasl_global.conf_path,
				set->conf_path) != 0) {
			e_error(event, "app=%s conf_path=%s: this auth "
				"process already uses libsasl2 with app=%s "
				"conf_path=%s, and libsasl2 reads one "
				"configuration per process: give every "
				"cyrussasl passdb the same app and conf_path",
				set->app, set->conf_path == NULL ? "(default)" :
				set->conf_path, cyrussasl_global.app,
				cyrussasl_global.conf_path == NULL ?
				"(default)" : cyrussasl_global.conf_path);
			return FALSE;
		}
		return TRUE;
	}

	cyrussasl_global.app = i_strdup(set->app);
	cyrussasl_global.conf_path = i_strdup(set->conf_path);
	if (set->conf_path == NULL) {
		/* libsasl2's own default (and SASL_CONF_PATH) */
		callbacks[1].id = SASL_CB_LIST_END;
	} else {
		callbacks[1].context = cyrussasl_global.conf_path;
	}
	ret = sasl_server_init(callbacks, cyrussasl_global.app);
	if (ret != SASL_OK) {
		e_error(event, "sasl_server_init(app=%s) failed: %s "
			"(check %s)", set->app, sasl_errstring(ret, NULL, NULL),
			cyrussasl_conf_file(set));
		i_free(cyrussasl_global.app);
		i_free(cyrussasl_global.conf_path);
		return FALSE;
	}
	cyrussasl_global.initialized = TRUE;
	return TRUE;
}

struct cyrussasl_passdb_module *
cyrussasl_module(struct auth_request *request)
{
	return container_of(request->passdb->passdb,
			    struct cyrussasl_passdb_module, module);
}

static sasl_conn_t *
cyrussasl_conn_new(struct auth_request *request,
		   const sasl_callback_t *conn_callbacks)
{
	const struct cyrussasl_settings *set = &cyrussasl_module(request)->set;
	struct event *event = authdb_event(request);
	sasl_conn_t *conn;
	int ret;

	if (!cyrussasl_global_init(set, event))
		return NULL;
	/* the realm of a user without "@realm" is set->realm, or libsasl2's
	   default (the host name): as Cyrus pop3d does, the user string goes
	   to libsasl2 as given, and libsasl2 splits off "@realm" */
	ret = sasl_server_new(set->app, NULL, set->realm, NULL, NULL,
			      conn_callbacks, 0, &conn);
	if (ret != SASL_OK) {
		e_error(event, "sasl_server_new(app=%s) failed: %s (check %s)",
			set->app, sasl_errstring(ret, NULL, NULL),
			cyrussasl_conf_file(set));
		return NULL;
	}
	return conn;
}

/* sasl_checkpass()'s results that are not "the store could not answer" */
static bool
cyrussasl_result(struct auth_request *request, int ret,
		 enum passdb_result *result_r)
{
	struct event *event = authdb_event(request);

	switch (ret) {
	case SASL_OK:
		*result_r = PASSDB_RESULT_OK;
		return TRUE;
	case SASL_BADAUTH:
		cyrussasl_glue_log_password_mismatch(request);
		*result_r = PASSDB_RESULT_PASSWORD_MISMATCH;
		return TRUE;
	case SASL_NOUSER:
		cyrussasl_glue_log_unknown_user(request);
		*result_r = PASSDB_RESULT_USER_UNKNOWN;
		return TRUE;
	case SASL_DISABLED:
		e_info(event, "account disabled in Cyrus SASL");
		*result_r = PASSDB_RESULT_USER_DISABLED;
		return TRUE;
	case SASL_EXPIRED:
		e_info(event, "password expired in Cyrus SASL");
		*result_r = PASSDB_RESULT_PASS_EXPIRED;
		return TRUE;
	default:
		*result_r = PASSDB_RESULT_INTERNAL_FAILURE;
		return FALSE;
	}
}

static enum passdb_result
cyrussasl_checkpass(struct auth_request *request, const char *password)
{
	const struct cyrussasl_settings *set = &cyrussasl_module(request)->set;
	const char *user = request->fields.user;
	sasl_callback_t conn_callbacks[] = {
		{ SASL_CB_LOG, CYRUSSASL_CB(cyrussasl_log), request },
		{ SASL_CB_LIST_END, NULL, NULL }
	};
	sasl_conn_t *conn;
	enum passdb_result result;
	int ret;

	if (strlen(user) > CYRUSSASL_MAX_INPUT_LEN ||
	    strlen(password) > CYRUSSASL_MAX_INPUT_LEN) {
		e_info(authdb_event(request),
		       "user name or password longer than %u bytes",
		       CYRUSSASL_MAX_INPUT_LEN);
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	}
	conn = cyrussasl_conn_new(request, conn_callbacks);
	if (conn == NULL)
		return PASSDB_RESULT_INTERNAL_FAILURE;
	ret = sasl_checkpass(conn, user, strlen(user),
			     password, strlen(password));
	if (!cyrussasl_result(request, ret, &result)) {
		/* the store could not answer: saslauthd down, sasldb
		   unreadable, no such pwcheck_method, ... */
		e_error(authdb_event(request), "sasl_checkpass() failed: %s "
			"(check pwcheck_method and its settings, e.g. "
			"saslauthd_path or sasldb_path, in %s)",
			sasl_errdetail(conn), cyrussasl_conf_file(set));
	}
	sasl_dispose(&conn);
	return result;
}

struct cyrussasl_fetch {
	/* the authid's cleartext userPassword, if the store had one */
	const char *password;
};

/* libsasl2 calls this when its PLAIN mechanism checks the password it was
   given, after the mechanism looked up the properties
   sasl_auxprop_request() asked for: the lookup is all that is wanted, so
   no check follows */
static int
cyrussasl_fetch_password(sasl_conn_t *conn ATTR_UNUSED, void *context,
			 const char *user ATTR_UNUSED,
			 const char *pass ATTR_UNUSED,
			 unsigned passlen ATTR_UNUSED, struct propctx *propctx)
{
	struct cyrussasl_fetch *fetch = context;
	const char *names[] = { SASL_AUX_PASSWORD, NULL };
	struct propval vals[N_ELEMENTS(names)];

	if (propctx != NULL && prop_getnames(propctx, names, vals) > 0 &&
	    vals[0].values != NULL && vals[0].values[0] != NULL)
		fetch->password = t_strdup(vals[0].values[0]);
	return SASL_OK;
}

void cyrussasl_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback)
{
	const struct cyrussasl_settings *set = &cyrussasl_module(request)->set;
	struct event *event = authdb_event(request);
	const char *user = request->fields.user;
	const char *names[] = { SASL_AUX_PASSWORD, NULL };
	struct cyrussasl_fetch fetch = { .password = NULL };
	sasl_callback_t conn_callbacks[] = {
		{ SASL_CB_LOG, CYRUSSASL_CB(cyrussasl_log), request },
		{ SASL_CB_SERVER_USERDB_CHECKPASS,
		  CYRUSSASL_CB(cyrussasl_fetch_password), &fetch },
		{ SASL_CB_LIST_END, NULL, NULL }
	};
	sasl_conn_t *conn;
	enum passdb_result result;
	int ret;

	if (strlen(user) > CYRUSSASL_MAX_INPUT_LEN) {
		cyrussasl_glue_log_unknown_user(request);
		callback(PASSDB_RESULT_USER_UNKNOWN, NULL, 0, request);
		return;
	}
	conn = cyrussasl_conn_new(request, conn_callbacks);
	if (conn == NULL) {
		callback(PASSDB_RESULT_INTERNAL_FAILURE, NULL, 0, request);
		return;
	}
	/* libsasl2 looks properties up only for a SASL exchange (not for
	   sasl_checkpass()): a PLAIN exchange of the user with a dummy
	   password, which cyrussasl_fetch_password() answers */
	ret = sasl_auxprop_request(conn, names);
	if (ret == SASL_OK) {
		const char *out;
		unsigned int out_len;
		string_t *plain = t_str_new(64);

		str_append_c(plain, '\0');
		str_append(plain, user);
		str_append_c(plain, '\0');
		str_append(plain, CYRUSSASL_LOOKUP_DUMMY_PASSWORD);
		ret = sasl_server_start(conn, "PLAIN", str_c(plain),
					str_len(plain), &out, &out_len);
	}
	if (ret == SASL_NOMECH) {
		e_error(event, "looking up the password needs libsasl2's "
			"PLAIN mechanism (libsasl2-modules; PLAIN in "
			"mech_list, if %s sets one)", cyrussasl_conf_file(set));
		ret = SASL_FAIL;
	}
	if (!cyrussasl_result(request, ret, &result)) {
		e_error(event, "looking up the password failed: %s (check "
			"the auxprop settings, e.g. sasldb_path, in %s)",
			sasl_errdetail(conn), cyrussasl_conf_file(set));
	} else if (result == PASSDB_RESULT_OK && fetch.password == NULL) {
		e_error(event, "Cyrus SASL gives no cleartext userPassword "
			"for this user (%s: pwcheck_method saslauthd, or an "
			"auxprop store without cleartext passwords): "
			"mechanisms that need the password (CRAM-MD5, APOP, "
			"DIGEST-MD5, SCRAM) cannot work with this passdb; "
			"offer plaintext ones only", cyrussasl_conf_file(set));
		result = PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	}
	sasl_dispose(&conn);
	if (result != PASSDB_RESULT_OK) {
		callback(result, NULL, 0, request);
		return;
	}
	passdb_handle_credentials(result, fetch.password, "PLAIN",
				  callback, request);
}

void cyrussasl_verify_plain(struct auth_request *request,
			    const char *password,
			    verify_plain_callback_t *callback)
{
	callback(cyrussasl_checkpass(request, password), request);
}

void cyrussasl_deinit(struct passdb_module *module ATTR_UNUSED)
{
	if (!cyrussasl_global.initialized)
		return;
	sasl_server_done();
	i_free(cyrussasl_global.app);
	i_free(cyrussasl_global.conf_path);
	cyrussasl_global.initialized = FALSE;
}

/* libauthdb_cyrussasl.so, loaded by auth for "driver = cyrussasl" */
void authdb_cyrussasl_init(struct module *module ATTR_UNUSED)
{
	passdb_register_module(&passdb_cyrussasl);
}

void authdb_cyrussasl_deinit(void)
{
	passdb_unregister_module(&passdb_cyrussasl);
}
