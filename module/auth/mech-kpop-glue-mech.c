/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP mechanism glue for Dovecot 2.3 and 2.4.0-2.4.1: a mech_module of
   the auth process's own mechanism API (mech.h). */

#include "auth-common.h"
#include "mech.h"
#include "passdb.h"
#include "kpop-mech-msg.h"
#include "mech-kpop-glue.h"

struct kpop_auth_request {
	struct auth_request auth_request;
	struct kpop_request *kpop;
};

struct module;

const char *mech_kpop_version = DOVECOT_ABI_VERSION;

void mech_kpop_init(struct module *module);
void mech_kpop_deinit(void);

static struct kpop_auth_request *kpop_wrapper(struct kpop_request *kpop)
{
	return kpop_request_get_glue(kpop);
}

struct auth_request *kpop_glue_auth_request(struct kpop_request *request)
{
	return &kpop_wrapper(request)->auth_request;
}

struct event *kpop_glue_event(struct kpop_request *request)
{
	return kpop_wrapper(request)->auth_request.mech_event;
}

void kpop_glue_continue(struct kpop_request *request,
			const void *data, size_t data_size)
{
	auth_request_handler_reply_continue(kpop_glue_auth_request(request),
					    data, data_size);
}

void kpop_glue_success(struct kpop_request *request)
{
	auth_request_success(kpop_glue_auth_request(request), NULL, 0);
}

void kpop_glue_failure(struct kpop_request *request)
{
	auth_request_fail(kpop_glue_auth_request(request));
}

void kpop_glue_internal_failure(struct kpop_request *request)
{
	auth_request_internal_failure(kpop_glue_auth_request(request));
}

bool kpop_glue_set_user(struct kpop_request *request, const char *user,
			const char **error_r)
{
	return auth_request_set_username(kpop_glue_auth_request(request),
					 user, error_r);
}

static struct kpop_request *kpop_of(struct auth_request *auth_request)
{
	struct kpop_auth_request *request =
		container_of(auth_request, struct kpop_auth_request,
			     auth_request);

	return request->kpop;
}

static void
kpop_credentials_callback(enum passdb_result result,
			  const unsigned char *credentials ATTR_UNUSED,
			  size_t size ATTR_UNUSED,
			  struct auth_request *auth_request)
{
	enum kpop_passdb_status status = KPOP_PASSDB_LOOKED_UP;

	switch (result) {
	case PASSDB_RESULT_INTERNAL_FAILURE:
		status = KPOP_PASSDB_INTERNAL_FAILURE;
		break;
	case PASSDB_RESULT_USER_DISABLED:
	case PASSDB_RESULT_PASS_EXPIRED:
		status = KPOP_PASSDB_DISABLED;
		break;
	case PASSDB_RESULT_NEXT:
	case PASSDB_RESULT_SCHEME_NOT_AVAILABLE:
	case PASSDB_RESULT_USER_UNKNOWN:
	case PASSDB_RESULT_PASSWORD_MISMATCH:
	case PASSDB_RESULT_OK:
		break;
	}
	kpop_request_passdb_done(kpop_of(auth_request), status);
}

void kpop_glue_passdb_lookup(struct kpop_request *request)
{
	struct auth_request *auth_request = kpop_glue_auth_request(request);

	/* success is the default: KPOP checks no password */
	auth_request->passdb_success = TRUE;
	auth_request_lookup_credentials(auth_request, "",
					kpop_credentials_callback);
}

static void
mech_kpop_auth_initial(struct auth_request *auth_request,
		       const unsigned char *data, size_t data_size)
{
	kpop_request_initial(kpop_of(auth_request), data, data_size);
}

static void
mech_kpop_auth_continue(struct auth_request *auth_request,
			const unsigned char *data, size_t data_size)
{
	kpop_request_continue(kpop_of(auth_request), data, data_size);
}

static struct auth_request *mech_kpop_auth_new(void)
{
	struct kpop_auth_request *request;
	pool_t pool;

	pool = pool_alloconly_create(MEMPOOL_GROWING"kpop_auth_request", 4096);
	request = p_new(pool, struct kpop_auth_request, 1);
	request->auth_request.pool = pool;
	request->kpop = kpop_request_new(pool, request);
	return &request->auth_request;
}

static void mech_kpop_auth_free(struct auth_request *auth_request)
{
	struct kpop_auth_request *request =
		container_of(auth_request, struct kpop_auth_request,
			     auth_request);

	kpop_request_free(request->kpop);
	pool_unref(&auth_request->pool);
}

static const struct mech_module mech_kpop = {
	KPOP_MECH_NAME,

	.flags = MECH_SEC_PRIVATE | MECH_SEC_ALLOW_NULS,
	.passdb_need = MECH_PASSDB_NEED_NOTHING,

	mech_kpop_auth_new,
	mech_kpop_auth_initial,
	mech_kpop_auth_continue,
	mech_kpop_auth_free
};

void mech_kpop_init(struct module *module ATTR_UNUSED)
{
	mech_register_module(&mech_kpop);
}

void mech_kpop_deinit(void)
{
	mech_unregister_module(&mech_kpop);
}
