/* SPDX-License-Identifier: LGPL-2.1-only */
/* The cyrussasl passdb's logic: plaintext passwords checked with
   sasl_checkpass() of the Cyrus SASL library, so whatever the site's
   <app>.conf says answers (pwcheck_method: auxprop with sasldb2, or
   saslauthd), and the cleartext password of an auxprop store for
   CRAM-MD5/APOP. Runs in auth worker processes (the passdb is blocking);
   libsasl2 is initialised there on the first request. The libsasl2 calls
   are in cyrussasl-lib.c; the version glue is behind passdb-cyrussasl.h. */

#include "auth-common.h"
#include "passdb.h"
#include "passdb-cyrussasl.h"

struct module;

const char *authdb_cyrussasl_version = DOVECOT_ABI_VERSION;

void authdb_cyrussasl_init(struct module *module);
void authdb_cyrussasl_deinit(void);

struct cyrussasl_passdb_module *
cyrussasl_module(struct auth_request *request)
{
	return container_of(request->passdb->passdb,
			    struct cyrussasl_passdb_module, module);
}

static enum passdb_result
cyrussasl_result(struct auth_request *request, enum cyrussasl_outcome outcome)
{
	switch (outcome) {
	case CYRUSSASL_OK:
		return PASSDB_RESULT_OK;
	case CYRUSSASL_BADAUTH:
		cyrussasl_glue_log_password_mismatch(request);
		return PASSDB_RESULT_PASSWORD_MISMATCH;
	case CYRUSSASL_NOUSER:
		cyrussasl_glue_log_unknown_user(request);
		return PASSDB_RESULT_USER_UNKNOWN;
	case CYRUSSASL_DISABLED:
		return PASSDB_RESULT_USER_DISABLED;
	case CYRUSSASL_EXPIRED:
		return PASSDB_RESULT_PASS_EXPIRED;
	case CYRUSSASL_FAILED:
		break;
	}
	return PASSDB_RESULT_INTERNAL_FAILURE;
}

void cyrussasl_verify_plain(struct auth_request *request,
			    const char *password,
			    verify_plain_callback_t *callback)
{
	const struct cyrussasl_settings *set = &cyrussasl_module(request)->set;
	const char *user = request->fields.user;
	enum passdb_result result;

	if (strlen(user) > CYRUSSASL_MAX_INPUT_LEN ||
	    strlen(password) > CYRUSSASL_MAX_INPUT_LEN) {
		e_info(authdb_event(request),
		       "user name or password longer than %u bytes",
		       CYRUSSASL_MAX_INPUT_LEN);
		result = PASSDB_RESULT_PASSWORD_MISMATCH;
	} else {
		result = cyrussasl_result(request,
			cyrussasl_checkpass(set, authdb_event(request),
					    user, password));
	}
	callback(result, request);
}

void cyrussasl_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback)
{
	const struct cyrussasl_settings *set = &cyrussasl_module(request)->set;
	const char *user = request->fields.user;
	const char *password = NULL;
	enum passdb_result result;

	if (strlen(user) > CYRUSSASL_MAX_INPUT_LEN) {
		result = cyrussasl_result(request, CYRUSSASL_NOUSER);
	} else {
		result = cyrussasl_result(request,
			cyrussasl_fetch_password(set, authdb_event(request),
						 user, &password));
	}
	if (result == PASSDB_RESULT_OK && password == NULL) {
		e_error(authdb_event(request),
			"Cyrus SASL gives no cleartext userPassword "
			"for this user (%s: pwcheck_method saslauthd, or an "
			"auxprop store without cleartext passwords): "
			"mechanisms that need the password (CRAM-MD5, APOP, "
			"DIGEST-MD5, SCRAM) cannot work with this passdb; "
			"offer plaintext ones only", cyrussasl_conf_file(set));
		result = PASSDB_RESULT_SCHEME_NOT_AVAILABLE;
	}
	passdb_handle_credentials(result, password, "PLAIN", callback, request);
}

void cyrussasl_deinit(struct passdb_module *module ATTR_UNUSED)
{
	cyrussasl_lib_deinit();
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
