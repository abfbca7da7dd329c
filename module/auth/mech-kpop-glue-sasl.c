/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP mechanism glue for Dovecot 2.4.2 and later: a lib-sasl server
   mechanism (sasl_server_mech_def), which the auth process registers
   through the loadable auth_sasl_mech_module below when auth_mechanisms
   names kpop. */

#include "auth-common.h"
#include "auth-request.h"
#include "sasl-server-protected.h"
#include "auth-sasl.h"
#include "kpop-mech-msg.h"
#include "mech-kpop-glue.h"

struct kpop_sasl_request {
	struct sasl_server_mech_request mreq;
	struct kpop_request *kpop;
};

struct module;

const char *mech_kpop_version = DOVECOT_ABI_VERSION;

void mech_kpop_init(struct module *module);
void mech_kpop_deinit(void);

static struct sasl_server_mech_request *kpop_mreq(struct kpop_request *kpop)
{
	struct kpop_sasl_request *request = kpop_request_get_glue(kpop);

	return &request->mreq;
}

struct auth_request *kpop_glue_auth_request(struct kpop_request *request)
{
	/* KPOP runs only inside Dovecot's auth process, where every SASL
	   request context is the one of an auth request */
	struct sasl_server_req_ctx *rctx =
		sasl_server_request_get_req_ctx(kpop_mreq(request));

	return container_of(rctx, struct auth_request, sasl.req);
}

struct event *kpop_glue_event(struct kpop_request *request)
{
	return kpop_mreq(request)->event;
}

void kpop_glue_continue(struct kpop_request *request,
			const void *data, size_t data_size)
{
	sasl_server_request_output(kpop_mreq(request), data, data_size);
}

void kpop_glue_success(struct kpop_request *request)
{
	sasl_server_request_success(kpop_mreq(request), NULL, 0);
}

void kpop_glue_failure(struct kpop_request *request)
{
	sasl_server_request_failure(kpop_mreq(request));
}

void kpop_glue_internal_failure(struct kpop_request *request)
{
	sasl_server_request_internal_failure(kpop_mreq(request));
}

bool kpop_glue_set_user(struct kpop_request *request, const char *user,
			const char **error_r)
{
	if (!sasl_server_request_set_authid(kpop_mreq(request),
					    SASL_SERVER_AUTHID_TYPE_USERNAME,
					    user)) {
		*error_r = "the auth process refused the user name";
		return FALSE;
	}
	return TRUE;
}

static void
kpop_credentials_callback(struct sasl_server_mech_request *mreq,
			  const struct sasl_passdb_result *result)
{
	struct kpop_sasl_request *request =
		container_of(mreq, struct kpop_sasl_request, mreq);
	enum kpop_passdb_status status = KPOP_PASSDB_LOOKED_UP;

	switch (result->status) {
	case SASL_PASSDB_RESULT_INTERNAL_FAILURE:
		status = KPOP_PASSDB_INTERNAL_FAILURE;
		break;
	case SASL_PASSDB_RESULT_USER_DISABLED:
	case SASL_PASSDB_RESULT_PASS_EXPIRED:
		status = KPOP_PASSDB_DISABLED;
		break;
	case SASL_PASSDB_RESULT_SCHEME_NOT_AVAILABLE:
	case SASL_PASSDB_RESULT_USER_UNKNOWN:
	case SASL_PASSDB_RESULT_PASSWORD_MISMATCH:
	case SASL_PASSDB_RESULT_OK:
		break;
	}
	kpop_request_passdb_done(request->kpop, status);
}

void kpop_glue_passdb_lookup(struct kpop_request *request)
{
	sasl_server_request_lookup_credentials(kpop_mreq(request), "",
					       kpop_credentials_callback);
}

static struct sasl_server_mech_request *
mech_kpop_auth_new(const struct sasl_server_mech *mech ATTR_UNUSED,
		   pool_t pool)
{
	struct kpop_sasl_request *request;

	request = p_new(pool, struct kpop_sasl_request, 1);
	request->kpop = kpop_request_new(pool, request);
	return &request->mreq;
}

static struct kpop_request *kpop_of(struct sasl_server_mech_request *mreq)
{
	struct kpop_sasl_request *request =
		container_of(mreq, struct kpop_sasl_request, mreq);

	return request->kpop;
}

static void
mech_kpop_auth_initial(struct sasl_server_mech_request *mreq,
		       const unsigned char *data, size_t data_size)
{
	kpop_request_initial(kpop_of(mreq), data, data_size);
}

static void
mech_kpop_auth_continue(struct sasl_server_mech_request *mreq,
			const unsigned char *data, size_t data_size)
{
	kpop_request_continue(kpop_of(mreq), data, data_size);
}

static void mech_kpop_auth_free(struct sasl_server_mech_request *mreq)
{
	struct kpop_sasl_request *request =
		container_of(mreq, struct kpop_sasl_request, mreq);

	/* the pool is lib-sasl's */
	kpop_request_free(request->kpop);
}

static const struct sasl_server_mech_funcs mech_kpop_funcs = {
	.auth_new = mech_kpop_auth_new,
	.auth_initial = mech_kpop_auth_initial,
	.auth_continue = mech_kpop_auth_continue,
	.auth_free = mech_kpop_auth_free,
};

static const struct sasl_server_mech_def mech_kpop_def = {
	.name = KPOP_MECH_NAME,

	.flags = SASL_MECH_SEC_PRIVATE | SASL_MECH_SEC_ALLOW_NULS,
	.passdb_need = SASL_MECH_PASSDB_NEED_NOTHING,

	.funcs = &mech_kpop_funcs,
};

static bool
mech_kpop_register(struct sasl_server_instance *sasl_inst,
		   const struct auth_settings *set ATTR_UNUSED)
{
	/* the keytab and host name are read per request from the auth
	   request's settings (protocol { } filters apply) */
	(void)sasl_server_mech_register(sasl_inst, &mech_kpop_def, NULL);
	return TRUE;
}

static void mech_kpop_unregister(struct sasl_server_instance *sasl_inst)
{
	sasl_server_mech_unregister(sasl_inst, &mech_kpop_def);
}

static const struct auth_sasl_mech_module mech_kpop_module = {
	.mech_name = KPOP_MECH_NAME,

	.mech_register = mech_kpop_register,
	.mech_unregister = mech_kpop_unregister,
};

void mech_kpop_init(struct module *module ATTR_UNUSED)
{
	auth_sasl_mech_register_module(&mech_kpop_module);
}

void mech_kpop_deinit(void)
{
	auth_sasl_mech_unregister_module(&mech_kpop_module);
}
