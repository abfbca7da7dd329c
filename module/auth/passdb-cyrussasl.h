/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef PASSDB_CYRUSSASL_H
#define PASSDB_CYRUSSASL_H

/* The cyrussasl passdb: passwords checked by the Cyrus SASL library
   (libsasl2) as the site's Cyrus SASL configuration says (sasldb2 through
   auxprop, saslauthd, ...). passdb-cyrussasl.c is the logic, the same for
   every Dovecot version; how the passdb gets its settings and registers
   differs, so configure builds exactly one glue file:
     passdb-cyrussasl-glue-23.c  Dovecot 2.3 (passdb args = ...)
     passdb-cyrussasl-glue-24.c  Dovecot 2.4 (passdb_cyrussasl_* settings)
   The passdb is blocking: Dovecot runs it in auth worker processes. */

#include "passdb.h"

/* the default SASL application name: <app>.conf is read as Cyrus pop3d's
   configuration is */
#define CYRUSSASL_DEFAULT_APP "pop"
/* longest user name or password handed to libsasl2 (its lengths are
   unsigned ints; Cyrus's own limit for a user is far below this) */
#define CYRUSSASL_MAX_INPUT_LEN 1024

struct cyrussasl_settings {
	/* SASL application name: libsasl2 reads <app>.conf, and it is the
	   service name saslauthd (and its PAM) sees */
	const char *app;
	/* directory of <app>.conf instead of libsasl2's default; NULL: the
	   default (/etc/sasl2 on Debian, or SASL_CONF_PATH) */
	const char *conf_path;
	/* realm of user names without "@realm"; NULL: Cyrus SASL's own
	   default (the server's host name) */
	const char *realm;
};

struct cyrussasl_passdb_module {
	struct passdb_module module;
	struct cyrussasl_settings set;
};

/* ---- the logic (passdb-cyrussasl.c), called by the glue ---- */
/* parses one "key=value" of the settings; FALSE with an error for an
   unknown key or a bad value */
bool cyrussasl_settings_parse(pool_t pool, struct cyrussasl_settings *set,
			      const char *key, const char *value,
			      const char **error_r);
/* checks what can be checked before the first request (the conf_path
   directory exists); FALSE with an error naming the setting */
bool cyrussasl_settings_check(const struct cyrussasl_settings *set,
			      const char **error_r);
void cyrussasl_verify_plain(struct auth_request *request,
			    const char *password,
			    verify_plain_callback_t *callback);
/* the user's cleartext userPassword from an auxprop store (sasldb2), as
   PLAIN credentials for CRAM-MD5, APOP and the like */
void cyrussasl_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback);
/* frees libsasl2's state of this process, if it was initialised */
void cyrussasl_deinit(struct passdb_module *module);
/* the passdb module behind the request's passdb */
struct cyrussasl_passdb_module *
cyrussasl_module(struct auth_request *request);

/* ---- the glue: the passdb's interface, with the glue's preinit (settings)
   and the logic's functions ---- */
extern struct passdb_module_interface passdb_cyrussasl;
/* Dovecot's usual "Password mismatch" and "unknown user" lines */
void cyrussasl_glue_log_password_mismatch(struct auth_request *request);
void cyrussasl_glue_log_unknown_user(struct auth_request *request);

#endif
