/* SPDX-License-Identifier: LGPL-2.1-only */
/* The cyrussasl passdb's calls into the Cyrus SASL library (libsasl2):
   its process-wide initialisation, sasl_checkpass(), and the password
   lookup through auxprop. Only lib.h and libsasl2's headers here: from
   Dovecot 2.4.2 on, Dovecot's auth headers declare a sasl_server_init()
   of their own (lib-sasl), and libdovecot exports it, so libsasl2's is
   called through dlsym() on libsasl2 itself. Used by passdb-cyrussasl.c
   (see cyrussasl-lib.h). */

/* dladdr(), before any system header */
#ifndef _GNU_SOURCE
#  define _GNU_SOURCE
#endif
#include "lib.h"
#include "str.h"
#include "cyrussasl-lib.h"

#include <dlfcn.h>
#include <sys/stat.h>
#include <sasl/sasl.h>
#include <sasl/prop.h>

/* the password of the PLAIN exchange a password lookup makes: never
   checked against anything */
#define CYRUSSASL_LOOKUP_DUMMY_PASSWORD "x"

/* a connection's callbacks: log, the password lookup's, the end */
#define CYRUSSASL_CONN_CALLBACKS 3

/* the function type libsasl2's callback table holds every callback as */
#define CYRUSSASL_CB(fn) ((int (*)(void))(void (*)(void))(fn))

typedef int cyrussasl_server_init_t(const sasl_callback_t *callbacks,
				    const char *appname);

/* libsasl2's server side is process-global: one application name and
   configuration directory per auth worker process. It stays initialised
   (and loaded) until the process exits: sasl_server_done() unloads
   libsasl2's plugins but leaves allocations of theirs behind, which
   LeakSanitizer reports in sanitizer builds. */
static struct {
	bool initialized;
	char *app;
	char *conf_path;
	/* libsasl2, opened again to find its own sasl_server_init() */
	void *handle;
	/* the log of libsasl2's global callbacks (no request at hand) */
	struct event *event;
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
	struct event *event = context != NULL ? context :
		cyrussasl_global.event;

	if (event == NULL) {
		/* after cyrussasl_lib_deinit() */
		return SASL_OK;
	}

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

const char *cyrussasl_conf_file(const struct cyrussasl_settings *set)
{
	if (set->conf_path != NULL)
		return t_strdup_printf("%s/%s.conf", set->conf_path, set->app);
	return t_strdup_printf("%s.conf in libsasl2's configuration "
			       "directory (set conf_path to name one)",
			       set->app);
}

/* libsasl2's sasl_server_init(), not libdovecot's of the same name */
static int
cyrussasl_server_init(const sasl_callback_t *callbacks, const char *app,
		      struct event *event)
{
	cyrussasl_server_init_t *init;
	Dl_info info;

	if (dladdr(CYRUSSASL_CB(sasl_checkpass), &info) == 0 ||
	    info.dli_fname == NULL) {
		e_error(event, "libsasl2 not found among the loaded libraries");
		return SASL_FAIL;
	}
	cyrussasl_global.handle = dlopen(info.dli_fname,
					 RTLD_NOW | RTLD_NOLOAD);
	if (cyrussasl_global.handle == NULL) {
		e_error(event, "dlopen(%s) failed: %s", info.dli_fname,
			dlerror());
		return SASL_FAIL;
	}
	init = (cyrussasl_server_init_t *)
		dlsym(cyrussasl_global.handle, "sasl_server_init");
	if (init == NULL) {
		e_error(event, "dlsym(%s, sasl_server_init) failed: %s",
			info.dli_fname, dlerror());
		return SASL_FAIL;
	}
	return init(callbacks, app);
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

	if (cyrussasl_global.event == NULL) {
		cyrussasl_global.event = event_create(NULL);
		event_set_append_log_prefix(cyrussasl_global.event,
					    "cyrussasl: ");
	}
	cyrussasl_global.app = i_strdup(set->app);
	cyrussasl_global.conf_path = i_strdup(set->conf_path);
	if (set->conf_path == NULL) {
		/* libsasl2's own default (and SASL_CONF_PATH) */
		callbacks[1].id = SASL_CB_LIST_END;
	} else {
		callbacks[1].context = cyrussasl_global.conf_path;
	}
	ret = cyrussasl_server_init(callbacks, cyrussasl_global.app, event);
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

struct cyrussasl_fetch {
	/* the authid's cleartext userPassword, if the store had one */
	const char *password;
};

/* libsasl2 calls this when its PLAIN mechanism checks the password it was
   given, after the mechanism looked up the properties
   sasl_auxprop_request() asked for: the lookup is all that is wanted, so
   no check follows */
static int
cyrussasl_fetch_cb(sasl_conn_t *conn ATTR_UNUSED, void *context,
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

/* one libsasl2 connection with its callbacks, which must outlive it */
struct cyrussasl_call {
	sasl_callback_t callbacks[CYRUSSASL_CONN_CALLBACKS];
	sasl_conn_t *conn;
};

static sasl_conn_t *
cyrussasl_conn_new(const struct cyrussasl_settings *set, struct event *event,
		   const sasl_callback_t *conn_callbacks)
{
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

/* a connection logging to event; with fetch, password checks go to
   cyrussasl_fetch_cb() */
static bool
cyrussasl_call_start(struct cyrussasl_call *call,
		     const struct cyrussasl_settings *set, struct event *event,
		     struct cyrussasl_fetch *fetch)
{
	unsigned int i = 0;

	call->callbacks[i++] = (sasl_callback_t){
		SASL_CB_LOG, CYRUSSASL_CB(cyrussasl_log), event };
	if (fetch != NULL) {
		call->callbacks[i++] = (sasl_callback_t){
			SASL_CB_SERVER_USERDB_CHECKPASS,
			CYRUSSASL_CB(cyrussasl_fetch_cb), fetch };
	}
	call->callbacks[i] = (sasl_callback_t){ SASL_CB_LIST_END, NULL, NULL };
	call->conn = cyrussasl_conn_new(set, event, call->callbacks);
	return call->conn != NULL;
}

/* libsasl2's answer; FALSE where the store could not answer */
static bool
cyrussasl_outcome(struct event *event, int ret,
		  enum cyrussasl_outcome *outcome_r)
{
	switch (ret) {
	case SASL_OK:
		*outcome_r = CYRUSSASL_OK;
		return TRUE;
	case SASL_BADAUTH:
		*outcome_r = CYRUSSASL_BADAUTH;
		return TRUE;
	case SASL_NOUSER:
		*outcome_r = CYRUSSASL_NOUSER;
		return TRUE;
	case SASL_DISABLED:
		e_info(event, "account disabled in Cyrus SASL");
		*outcome_r = CYRUSSASL_DISABLED;
		return TRUE;
	case SASL_EXPIRED:
		e_info(event, "password expired in Cyrus SASL");
		*outcome_r = CYRUSSASL_EXPIRED;
		return TRUE;
	default:
		*outcome_r = CYRUSSASL_FAILED;
		return FALSE;
	}
}

enum cyrussasl_outcome
cyrussasl_checkpass(const struct cyrussasl_settings *set, struct event *event,
		    const char *user, const char *password)
{
	struct cyrussasl_call call;
	enum cyrussasl_outcome outcome;
	int ret;

	if (!cyrussasl_call_start(&call, set, event, NULL))
		return CYRUSSASL_FAILED;
	ret = sasl_checkpass(call.conn, user, strlen(user),
			     password, strlen(password));
	if (!cyrussasl_outcome(event, ret, &outcome)) {
		/* the store could not answer: saslauthd down, sasldb
		   unreadable, no such pwcheck_method, ... */
		e_error(event, "sasl_checkpass() failed: %s "
			"(check pwcheck_method and its settings, e.g. "
			"saslauthd_path or sasldb_path, in %s)",
			sasl_errdetail(call.conn), cyrussasl_conf_file(set));
	}
	sasl_dispose(&call.conn);
	return outcome;
}

enum cyrussasl_outcome
cyrussasl_fetch_password(const struct cyrussasl_settings *set,
			 struct event *event, const char *user,
			 const char **password_r)
{
	const char *names[] = { SASL_AUX_PASSWORD, NULL };
	struct cyrussasl_fetch fetch = { .password = NULL };
	struct cyrussasl_call call;
	enum cyrussasl_outcome outcome;
	int ret;

	*password_r = NULL;
	if (!cyrussasl_call_start(&call, set, event, &fetch))
		return CYRUSSASL_FAILED;
	/* libsasl2 looks properties up only for a SASL exchange (not for
	   sasl_checkpass()): a PLAIN exchange of the user with a dummy
	   password, which cyrussasl_fetch_cb() answers */
	ret = sasl_auxprop_request(call.conn, names);
	if (ret == SASL_OK) {
		const char *out;
		unsigned int out_len;
		string_t *plain = t_str_new(64);

		str_append_c(plain, '\0');
		str_append(plain, user);
		str_append_c(plain, '\0');
		str_append(plain, CYRUSSASL_LOOKUP_DUMMY_PASSWORD);
		ret = sasl_server_start(call.conn, "PLAIN", str_c(plain),
					str_len(plain), &out, &out_len);
	}
	if (ret == SASL_NOMECH) {
		e_error(event, "looking up the password needs libsasl2's "
			"PLAIN mechanism (libsasl2-modules; PLAIN in "
			"mech_list, if %s sets one)", cyrussasl_conf_file(set));
		ret = SASL_FAIL;
	}
	if (!cyrussasl_outcome(event, ret, &outcome)) {
		e_error(event, "looking up the password failed: %s (check "
			"the auxprop settings, e.g. sasldb_path, in %s)",
			sasl_errdetail(call.conn), cyrussasl_conf_file(set));
	}
	sasl_dispose(&call.conn);
	*password_r = fetch.password;
	return outcome;
}

void cyrussasl_lib_deinit(void)
{
	/* libsasl2 itself stays initialised (see cyrussasl_global) */
	event_unref(&cyrussasl_global.event);
}
