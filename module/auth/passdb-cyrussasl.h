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
#include "cyrussasl-lib.h"

struct cyrussasl_passdb_module {
	struct passdb_module module;
	struct cyrussasl_settings set;
};

/* ---- the logic (passdb-cyrussasl.c), called by the glue ---- */
void cyrussasl_verify_plain(struct auth_request *request,
			    const char *password,
			    verify_plain_callback_t *callback);
/* the user's cleartext userPassword from an auxprop store (sasldb2), as
   PLAIN credentials for CRAM-MD5, APOP and the like */
void cyrussasl_lookup_credentials(struct auth_request *request,
				  lookup_credentials_callback_t *callback);
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
