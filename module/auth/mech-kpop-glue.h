/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef MECH_KPOP_GLUE_H
#define MECH_KPOP_GLUE_H

/* The KPOP mechanism (mech-kpop.c) and how it plugs into Dovecot's auth
   process, which differs between versions. configure builds exactly one
   glue file:
     mech-kpop-glue-mech.c  Dovecot 2.3 and 2.4.0-2.4.1 (auth's mech.h)
     mech-kpop-glue-sasl.c  Dovecot 2.4.2 and later (lib-sasl's
                            sasl_server_mech_def, registered as a loadable
                            auth_sasl_mech_module)
   The glue owns the request object Dovecot sees and embeds the
   mechanism's struct kpop_request in it. */

struct auth_request;
struct kpop_request;

enum kpop_passdb_status {
	/* the passdb lookup is done (found or not): its extra fields, if
	   any, are in the auth request */
	KPOP_PASSDB_LOOKED_UP = 0,
	/* the passdb says the user may not log in at all */
	KPOP_PASSDB_DISABLED,
	KPOP_PASSDB_INTERNAL_FAILURE,
};

/* ---- the mechanism, called by the glue (mech-kpop.c) ---- */
/* glue: the glue's own request object, returned by
   kpop_request_get_glue() */
struct kpop_request *kpop_request_new(pool_t pool, void *glue);
void *kpop_request_get_glue(struct kpop_request *request);
void kpop_request_initial(struct kpop_request *request,
			  const unsigned char *data, size_t data_size);
void kpop_request_continue(struct kpop_request *request,
			   const unsigned char *data, size_t data_size);
/* the answer to kpop_glue_passdb_lookup() */
void kpop_request_passdb_done(struct kpop_request *request,
			      enum kpop_passdb_status status);
/* wipes the ticket and frees the Kerberos state (not the pool) */
void kpop_request_free(struct kpop_request *request);

/* ---- the glue, called by the mechanism ---- */
/* the auth request behind it: auth settings (keytab, host name), the
   user, passdb extra fields, the failure reason field */
struct auth_request *kpop_glue_auth_request(struct kpop_request *request);
struct event *kpop_glue_event(struct kpop_request *request);
/* send a challenge to the login process */
void kpop_glue_continue(struct kpop_request *request,
			const void *data, size_t data_size);
void kpop_glue_success(struct kpop_request *request);
void kpop_glue_failure(struct kpop_request *request);
void kpop_glue_internal_failure(struct kpop_request *request);
/* the user the login process named; FALSE with an error if auth refuses
   the name (auth_username_chars, translation) */
bool kpop_glue_set_user(struct kpop_request *request, const char *user,
			const char **error_r);
/* look the user up in the passdb (no password is checked); the answer
   comes through kpop_request_passdb_done() */
void kpop_glue_passdb_lookup(struct kpop_request *request);

#endif
