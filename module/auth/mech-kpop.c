/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP: the private authentication mechanism behind altpop-login's kpop
   listener. It runs inside Dovecot's auth process and is the only place
   that touches the keytab.

   altpop-login reads the Kerberos V5 sendauth exchange from the client and
   hands over the AP-REQ (include/kpop-mech-msg.h has the messages). Here the
   AP-REQ is verified with krb5_rd_req() (keytab from auth_krb5_keytab or the
   default keytab, the library's replay cache and clock skew), the AP-REP is
   built when the client asked for mutual authentication, and, once the client
   has named its POP3 user, the principal is authorized for that user
   (passdb field k5principals, or krb5_kuserok() which covers ~/.k5login and
   the default realm mapping). The passdb is consulted for its extra fields
   and the userdb lookup follows as usual.

   This file is the mechanism's logic; how it plugs into the auth process
   differs between Dovecot versions and lives in the glue file configure
   picks (mech-kpop-glue.h). */

#include "auth-common.h"
#include "buffer.h"
#include "str.h"
#include "str-sanitize.h"
#include "hostpid.h"
#include "safe-memset.h"
#include "passdb.h"
#include "auth-fields.h"
#include "kpop-mech-msg.h"
#include "kpop-services.h"
#include "mech-kpop-glue.h"

#include <krb5.h>
#include <com_err.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pwd.h>
#include <grp.h>

/* auth_gssapi_hostname value meaning "any <service>/<host> in the keytab"
   (for the accepted services only). */
#define KPOP_ANY_HOST "$ALL"

/* altpop's events in the auth process (doc/events.md) */
static struct event_category event_category_altpop = {
	.name = "altpop",
};

enum kpop_mech_state {
	KPOP_MECH_STATE_AP_REQ = 0,
	/* the 'E' challenge went out: the failure follows the login
	   process's acknowledgement (one reply per request or response) */
	KPOP_MECH_STATE_REJECTED,
	KPOP_MECH_STATE_USER,
	KPOP_MECH_STATE_DONE,
};

struct kpop_request {
	pool_t pool;
	void *glue;

	enum kpop_mech_state state;
	buffer_t *ap_req;
	uint32_t ap_req_size;

	/* the services tickets may be for (kpop-services.h); the first is
	   the one named in admin hints and KRB-ERRORs */
	const char *const *services;

	krb5_context ctx;
	krb5_principal client;
	char *principal_name;
	/* the service the ticket is for (one of altpop_kpop_services once
	   the ticket is accepted) */
	const char *ticket_service;
	bool internal_failure;
};

static const char *
kpop_krb5_error(krb5_context ctx, krb5_error_code code)
{
	const char *msg, *ret;

	if (ctx == NULL)
		return error_message(code);
	msg = krb5_get_error_message(ctx, code);
	ret = t_strdup(msg);
	krb5_free_error_message(ctx, msg);
	return ret;
}

static const char *kpop_keytab_name(struct kpop_request *request)
{
	const struct auth_settings *set = kpop_glue_auth_request(request)->set;
	char name[1024];

	if (set->krb5_keytab != NULL && set->krb5_keytab[0] != '\0')
		return set->krb5_keytab;
	if (krb5_kt_default_name(request->ctx, name, sizeof(name)) != 0)
		return "FILE:/etc/krb5.keytab";
	return t_strdup(name);
}

/* The file behind a keytab name, or NULL for non-file keytabs. */
static const char *kpop_keytab_path(const char *name)
{
	const char *p = strchr(name, ':');

	if (p == NULL)
		return name;
	if (strncmp(name, "FILE:", 5) == 0 || strncmp(name, "WRFILE:", 7) == 0)
		return p + 1;
	if (p == name + 1) {
		/* a Windows drive letter, not a type */
		return name;
	}
	return NULL;
}

static void kpop_whoami(const char **user_r, const char **group_r)
{
	const struct passwd *pw = getpwuid(geteuid());
	const struct group *gr = getgrgid(getegid());

	*user_r = pw != NULL ? t_strdup(pw->pw_name) :
		t_strdup_printf("uid %ld", (long)geteuid());
	*group_r = gr != NULL ? t_strdup(gr->gr_name) :
		t_strdup_printf("%ld", (long)getegid());
}

/* Explain a keytab that cannot be used, in words an admin can act on.
   Returns -1 if the keytab is missing or unreadable. */
static int kpop_keytab_check(struct kpop_request *request,
			     const char *name, krb5_keytab keytab)
{
	const char *path = kpop_keytab_path(name), *user, *group;
	krb5_error_code ret;
	int fd;

	kpop_whoami(&user, &group);
	if (path != NULL) {
		fd = open(path, O_RDONLY);
		if (fd == -1 && errno == ENOENT) {
			e_error(kpop_glue_event(request),
				"KPOP keytab %s does not exist: create it "
				"with kadmin (ktadd -k %s %s/<host>) or point "
				"auth_krb5_keytab to the keytab holding the "
				"%s/<host> key", path, path,
				request->services[0], request->services[0]);
			return -1;
		}
		if (fd == -1 && (errno == EACCES || errno == EPERM)) {
			e_error(kpop_glue_event(request),
				"KPOP keytab %s is not readable by the auth "
				"process (running as user %s, group %s): "
				"chgrp %s %s && chmod 0640 %s "
				"(keep it unreadable for everybody else)",
				path, user, group, group, path, path);
			return -1;
		}
		if (fd == -1) {
			e_error(kpop_glue_event(request),
				"KPOP keytab: open(%s) failed: %m", path);
			return -1;
		}
		i_close_fd(&fd);
	}
	ret = krb5_kt_have_content(request->ctx, keytab);
	if (ret != 0) {
		e_error(kpop_glue_event(request),
			"KPOP keytab %s has no keys (%s): add the %s/<host> "
			"key with kadmin ktadd", name,
			kpop_krb5_error(request->ctx, ret),
			request->services[0]);
		return -1;
	}
	return 0;
}

static const char *kpop_hostname(struct kpop_request *request)
{
	const char *host = kpop_glue_auth_request(request)->set->gssapi_hostname;

	if (host == NULL || host[0] == '\0')
		host = my_hostdomain();
	return host;
}

/* altpop_kpop_login_finished: the principal may log in as the user
   (error NULL), or the ticket or the principal was refused */
static void kpop_login_event(struct kpop_request *request, const char *error)
{
	struct event *event = event_create(kpop_glue_event(request));

	event_add_category(event, &event_category_altpop);
	event_set_name(event, "altpop_kpop_login_finished");
	if (request->principal_name != NULL)
		event_add_str(event, "principal", request->principal_name);
	if (request->ticket_service != NULL)
		event_add_str(event, "kpop_service", request->ticket_service);
	if (error != NULL)
		event_add_str(event, "error", error);
	e_debug(event, "KPOP login %s%s", error == NULL ? "accepted" :
		"refused: ", error == NULL ? "" : error);
	event_unref(&event);
}

/* A ticket of another service: its client principal and service, for the
   event (server_name: the ticket's server principal unparsed, or NULL) */
static void kpop_refused_ticket_names(struct kpop_request *request,
				      krb5_ticket *ticket,
				      const char *server_name)
{
	const char *slash;
	char *name;

	if (krb5_unparse_name(request->ctx, ticket->enc_part2->client,
			      &name) == 0) {
		request->principal_name = p_strdup(request->pool, name);
		krb5_free_unparsed_name(request->ctx, name);
	}
	if (server_name != NULL && (slash = strchr(server_name, '/')) != NULL) {
		request->ticket_service =
			p_strdup_until(request->pool, server_name, slash);
	}
}

/* Is the ticket for one of the accepted principals: <service>/<host> in
   any realm, or any <service>/<host> with auth_gssapi_hostname = $ALL?
   The service it is for is kept in the request. */
static bool
kpop_ticket_server_accepted(struct kpop_request *request,
			    krb5_const_principal server)
{
	const char *host = kpop_hostname(request);
	const char *const *service;
	krb5_principal matching;
	bool match = FALSE;

	if (strcmp(host, KPOP_ANY_HOST) == 0)
		host = "";
	for (service = request->services; *service != NULL && !match;
	     service++) {
		if (krb5_build_principal(request->ctx, &matching, 0, "",
					 *service, host, NULL) != 0)
			continue;
		/* a host-based name with an empty realm (and possibly an
		   empty host) matches as a wildcard */
		matching->type = KRB5_NT_SRV_HST;
		match = krb5_sname_match(request->ctx, matching, server);
		krb5_free_principal(request->ctx, matching);
		if (match)
			request->ticket_service = *service;
	}
	return match;
}

/* The sname/realm put into a KRB-ERROR. */
static krb5_principal kpop_error_principal(struct kpop_request *request)
{
	krb5_principal princ = NULL;
	const char *host = kpop_hostname(request);
	char *realm = NULL;

	if (strcmp(host, KPOP_ANY_HOST) == 0)
		host = my_hostdomain();
	if (krb5_get_default_realm(request->ctx, &realm) != 0)
		realm = NULL;
	if (krb5_build_principal(request->ctx, &princ,
				 realm == NULL ? 0 : strlen(realm),
				 realm == NULL ? "" : realm,
				 request->services[0], host, NULL) != 0)
		princ = NULL;
	if (realm != NULL)
		krb5_free_default_realm(request->ctx, realm);
	return princ;
}

/* Tell the login process that the ticket was rejected: 'E', a reason for
   its log, and a KRB-ERROR for the client (as krb5_recvauth() builds it,
   so clients print the reason). The failure itself is the reply to the
   login process's next (empty) response: Dovecot's auth handler expects
   exactly one reply per request or response. */
static void kpop_send_rejection(struct kpop_request *request,
				krb5_error_code code, const char *reason)
{
	krb5_error err;
	krb5_data out = { 0, 0, NULL };
	krb5_principal server = NULL;
	const char *text;
	buffer_t *buf;

	i_zero(&err);
	if (code >= ERROR_TABLE_BASE_krb5 &&
	    code <= ERROR_TABLE_BASE_krb5 + 127) {
		err.error = code - ERROR_TABLE_BASE_krb5;
		text = error_message(code);
	} else {
		err.error = KRB5KRB_ERR_GENERIC - ERROR_TABLE_BASE_krb5;
		text = reason;
	}
	if (request->ctx != NULL) {
		(void)krb5_us_timeofday(request->ctx, &err.stime, &err.susec);
		server = kpop_error_principal(request);
	}
	err.server = server;
	/* no NUL: clients print e-text with its length (fetchmail would show
	   a trailing \x00) */
	err.text.data = (char *)text;
	err.text.length = strlen(text);
	if (server == NULL ||
	    krb5_mk_error(request->ctx, &err, &out) != 0) {
		out.data = NULL;
		out.length = 0;
	}

	buf = t_buffer_create(64 + out.length + strlen(reason));
	kpop_mech_rejected_append(buf, reason, out.data, out.length);
	kpop_glue_continue(request, buf->data, buf->used);
	if (out.data != NULL)
		krb5_free_data_contents(request->ctx, &out);
	if (server != NULL)
		krb5_free_principal(request->ctx, server);
}

static void kpop_reject(struct kpop_request *request,
			krb5_error_code code, const char *reason,
			bool internal)
{
	request->state = KPOP_MECH_STATE_REJECTED;
	request->internal_failure = internal;
	kpop_send_rejection(request, code, reason);
}

static void kpop_verify(struct kpop_request *request)
{
	krb5_auth_context auth_ctx = NULL;
	krb5_keytab keytab = NULL;
	krb5_ticket *ticket = NULL;
	krb5_flags ap_req_options = 0;
	krb5_data ap_req, ap_rep = { 0, 0, NULL };
	krb5_error_code ret;
	const char *ktname, *reason;
	char *server_name = NULL;
	buffer_t *reply;

	ret = krb5_init_context(&request->ctx);
	if (ret != 0) {
		request->ctx = NULL;
		e_error(kpop_glue_event(request),
			"krb5_init_context() failed: %s (check krb5.conf)",
			error_message(ret));
		kpop_reject(request, ret, "Kerberos library unavailable",
			    TRUE);
		return;
	}

	ktname = kpop_keytab_name(request);
	ret = krb5_kt_resolve(request->ctx, ktname, &keytab);
	if (ret != 0) {
		e_error(kpop_glue_event(request),
			"KPOP keytab %s: %s (check auth_krb5_keytab)", ktname,
			kpop_krb5_error(request->ctx, ret));
		kpop_reject(request, KRB5KRB_AP_ERR_NOKEY,
			    "server keytab unusable", TRUE);
		return;
	}
	if (kpop_keytab_check(request, ktname, keytab) < 0) {
		(void)krb5_kt_close(request->ctx, keytab);
		kpop_reject(request, KRB5KRB_AP_ERR_NOKEY,
			    "server keytab unusable", TRUE);
		return;
	}

	ret = krb5_auth_con_init(request->ctx, &auth_ctx);
	if (ret != 0) {
		e_error(kpop_glue_event(request), "KPOP: %s",
			kpop_krb5_error(request->ctx, ret));
		(void)krb5_kt_close(request->ctx, keytab);
		kpop_reject(request, ret, "internal error", TRUE);
		return;
	}

	ap_req.magic = 0;
	ap_req.data = (char *)request->ap_req->data;
	ap_req.length = request->ap_req->used;
	/* any key of the keytab decrypts; the server is checked below
	   against every accepted service */
	ret = krb5_rd_req(request->ctx, &auth_ctx, &ap_req, NULL, keytab,
			  &ap_req_options, &ticket);
	(void)krb5_kt_close(request->ctx, keytab);
	safe_memset(buffer_get_modifiable_data(request->ap_req, NULL), 0,
		    request->ap_req->used);

	if (ret == 0 &&
	    !kpop_ticket_server_accepted(request, ticket->server)) {
		/* a key of another service or host in the keytab */
		const char *host = kpop_hostname(request);
		string_t *accepted = t_str_new(64);

		if (strcmp(host, KPOP_ANY_HOST) == 0)
			host = "<host>";
		for (unsigned int i = 0; request->services[i] != NULL; i++) {
			str_printfa(accepted, "%s%s/%s", i == 0 ? "" : ", ",
				    request->services[i],
				    str_sanitize(host, 256));
		}
		if (krb5_unparse_name(request->ctx, ticket->server,
				      &server_name) != 0)
			server_name = NULL;
		e_info(kpop_glue_event(request),
		       "KPOP ticket rejected: ticket is for %s, not for %s "
		       "(altpop_kpop_services)",
		       server_name == NULL ? "?" : str_sanitize(server_name, 256),
		       str_c(accepted));
		kpop_refused_ticket_names(request, ticket, server_name);
		if (server_name != NULL)
			krb5_free_unparsed_name(request->ctx, server_name);
		/* as krb5_rd_req() refuses a ticket for another principal */
		ret = KRB5KRB_AP_ERR_NOT_US;
		reason = "ticket is not for this server's POP service";
		kpop_login_event(request, reason);
		krb5_free_ticket(request->ctx, ticket);
		krb5_auth_con_free(request->ctx, auth_ctx);
		kpop_reject(request, ret, reason, FALSE);
		return;
	}
	if (ret != 0) {
		reason = kpop_krb5_error(request->ctx, ret);
		e_info(kpop_glue_event(request),
		       "KPOP ticket rejected: %s", str_sanitize(reason, 512));
		kpop_login_event(request, str_sanitize(reason, 512));
		if (auth_ctx != NULL)
			krb5_auth_con_free(request->ctx, auth_ctx);
		kpop_reject(request, ret, reason, FALSE);
		return;
	}

	ret = krb5_copy_principal(request->ctx, ticket->enc_part2->client,
				  &request->client);
	if (ret == 0) {
		char *name;

		ret = krb5_unparse_name(request->ctx, request->client, &name);
		if (ret == 0) {
			request->principal_name = p_strdup(request->pool, name);
			krb5_free_unparsed_name(request->ctx, name);
		}
	}
	if (ret == 0 && (ap_req_options & AP_OPTS_MUTUAL_REQUIRED) != 0)
		ret = krb5_mk_rep(request->ctx, auth_ctx, &ap_rep);
	krb5_free_ticket(request->ctx, ticket);
	krb5_auth_con_free(request->ctx, auth_ctx);
	if (ret != 0) {
		e_error(kpop_glue_event(request), "KPOP: %s",
			kpop_krb5_error(request->ctx, ret));
		kpop_reject(request, ret, "internal error", TRUE);
		return;
	}

	e_debug(kpop_glue_event(request),
		"KPOP ticket accepted for principal %s%s",
		str_sanitize(request->principal_name, 256),
		ap_rep.length > 0 ? " (mutual authentication)" : "");

	request->state = KPOP_MECH_STATE_USER;
	reply = t_buffer_create(1 + ap_rep.length);
	buffer_append_c(reply, KPOP_MECH_CHALLENGE_ACCEPTED);
	buffer_append(reply, ap_rep.data, ap_rep.length);
	if (ap_rep.data != NULL)
		krb5_free_data_contents(request->ctx, &ap_rep);
	kpop_glue_continue(request, reply->data, reply->used);
}

static bool
kpop_k5principals_authorized(struct kpop_request *request)
{
	struct auth_request *auth_request = kpop_glue_auth_request(request);
	const char *value, *const *names;

	value = auth_fields_find(auth_request->fields.extra_fields,
				 "k5principals");
	if (value == NULL)
		return FALSE;
	names = t_strsplit_spaces(value, ",");
	for (; *names != NULL; names++) {
		if (strcmp(*names, request->principal_name) == 0) {
			e_debug(kpop_glue_event(request),
				"KPOP: %s authorized by the k5principals "
				"field", request->principal_name);
			return TRUE;
		}
	}
	return FALSE;
}

/* krb5_kuserok() refuses every user without a system account (its
   .k5login module is authoritative and needs the home directory). Virtual
   users get the rest of what it checks: the principal's local name (default
   realm mapping and auth_to_local rules of krb5.conf) must be the user. */
static bool kpop_virtual_user_matches(struct kpop_request *request,
				      const char *login_user)
{
	char lname[256];

	errno = 0;
	if (getpwnam(login_user) != NULL)
		return FALSE;
	if (errno != 0 && errno != ENOENT && errno != ESRCH &&
	    errno != EBADF && errno != EPERM) {
		e_error(kpop_glue_event(request),
			"KPOP: getpwnam(%s) failed: %m", login_user);
		return FALSE;
	}
	if (krb5_aname_to_localname(request->ctx, request->client,
				    sizeof(lname), lname) != 0)
		return FALSE;
	if (strcmp(lname, login_user) != 0)
		return FALSE;
	e_debug(kpop_glue_event(request),
		"KPOP: %s authorized by its local name (no system account %s)",
		request->principal_name, login_user);
	return TRUE;
}

static bool kpop_authorized(struct kpop_request *request,
			    const char *login_user)
{
	if (kpop_k5principals_authorized(request))
		return TRUE;
	if (krb5_kuserok(request->ctx, request->client, login_user) != 0)
		return TRUE;
	return kpop_virtual_user_matches(request, login_user);
}

/* A passdb reply that proxies the login needs a password to log in at the
   backend: a KPOP login has none of its own (the user's password is
   forwarded for USER/PASS and SASL PLAIN), so the reply must carry pass=
   (with master=, the front's master user). Without it login-common has
   nothing to log in with (Dovecot 2.3.19's login process even crashes
   on that path): refuse here, saying what the reply lacks. */
static bool kpop_proxy_without_password(struct kpop_request *request,
					const char *user)
{
	struct auth_request *auth_request = kpop_glue_auth_request(request);
	struct auth_fields *fields = auth_request->fields.extra_fields;

	if (fields == NULL || !auth_fields_exists(fields, "proxy") ||
	    auth_fields_exists(fields, "pass"))
		return FALSE;
	e_error(kpop_glue_event(request),
		"KPOP login of %s cannot be proxied: the passdb reply says "
		"proxy but gives no pass (a KPOP login has no password to "
		"forward): add master=<master user> pass=<its password> to "
		"the passdb reply of KPOP users", user);
	kpop_login_event(request, "proxy without pass");
	return TRUE;
}

void kpop_request_passdb_done(struct kpop_request *request,
			      enum kpop_passdb_status status)
{
	struct auth_request *auth_request = kpop_glue_auth_request(request);
	const char *user = auth_request->fields.user;
	char lname[256];

	/* KPOP needs no password: the passdb is asked for its extra fields
	   (k5principals, nologin, proxy, ...) only, as with GSSAPI. */
	switch (status) {
	case KPOP_PASSDB_INTERNAL_FAILURE:
		kpop_glue_internal_failure(request);
		return;
	case KPOP_PASSDB_DISABLED:
		kpop_glue_failure(request);
		return;
	case KPOP_PASSDB_LOOKED_UP:
		break;
	}

	if (kpop_authorized(request, user)) {
		if (kpop_proxy_without_password(request, user)) {
			kpop_glue_internal_failure(request);
			return;
		}
		e_debug(kpop_glue_event(request),
			"KPOP: principal %s may log in as %s",
			request->principal_name, user);
		kpop_login_event(request, NULL);
		kpop_glue_success(request);
		return;
	}

	if (krb5_aname_to_localname(request->ctx, request->client,
				    sizeof(lname), lname) != 0)
		i_strocpy(lname, "(none)", sizeof(lname));
	e_info(kpop_glue_event(request),
	       "KPOP: Kerberos principal %s is not allowed to log in as %s "
	       "(its local name is %s; authorize it with a k5principals "
	       "passdb field or the user's .k5login)",
	       str_sanitize(request->principal_name, 256),
	       str_sanitize(user, 256), str_sanitize(lname, 256));
	const char *reason = t_strdup_printf(
		"Kerberos principal %s may not log in as %s",
		str_sanitize(request->principal_name, 256),
		str_sanitize(user, 256));
	auth_request_set_field(auth_request, "reason", reason, NULL);
	kpop_login_event(request, reason);
	kpop_glue_failure(request);
}

static void kpop_user(struct kpop_request *request,
		      const unsigned char *data, size_t size)
{
	const char *user, *error;

	request->state = KPOP_MECH_STATE_DONE;
	if (size == 0 || size > KPOP_MAX_USER_LEN ||
	    memchr(data, '\0', size) != NULL) {
		e_info(kpop_glue_event(request),
		       "KPOP: invalid user name from the login process");
		kpop_glue_failure(request);
		return;
	}
	user = t_strndup(data, size);
	if (!kpop_glue_set_user(request, user, &error)) {
		e_info(kpop_glue_event(request), "KPOP: %s", error);
		kpop_glue_failure(request);
		return;
	}
	/* the passdb may set k5principals; kpop_request_passdb_done()
	   follows */
	kpop_glue_passdb_lookup(request);
}

static void kpop_ap_req_data(struct kpop_request *request,
			     const unsigned char *data, size_t size)
{
	if (size == 0 || size > KPOP_MECH_CHUNK_SIZE ||
	    size > request->ap_req_size - request->ap_req->used) {
		e_error(kpop_glue_event(request),
			"KPOP: malformed AP-REQ chunk from the login process");
		request->state = KPOP_MECH_STATE_DONE;
		kpop_glue_failure(request);
		return;
	}
	buffer_append(request->ap_req, data, size);
	if (request->ap_req->used < request->ap_req_size) {
		unsigned char more = KPOP_MECH_CHALLENGE_MORE;

		kpop_glue_continue(request, &more, 1);
		return;
	}
	kpop_verify(request);
}

void kpop_request_continue(struct kpop_request *request,
			   const unsigned char *data, size_t data_size)
{
	switch (request->state) {
	case KPOP_MECH_STATE_AP_REQ:
		kpop_ap_req_data(request, data, data_size);
		break;
	case KPOP_MECH_STATE_REJECTED:
		/* the KRB-ERROR is out: now the failure */
		request->state = KPOP_MECH_STATE_DONE;
		if (request->internal_failure)
			kpop_glue_internal_failure(request);
		else
			kpop_glue_failure(request);
		break;
	case KPOP_MECH_STATE_USER:
		kpop_user(request, data, data_size);
		break;
	case KPOP_MECH_STATE_DONE:
		e_error(kpop_glue_event(request),
			"KPOP: unexpected data from the login process");
		kpop_glue_failure(request);
		break;
	}
}

/* The service list altpop-login sends in front of the initial response
   (kpop-services.h), or the default. Returns -1 if it is malformed. */
static int kpop_services_parse(struct kpop_request *request,
			       const unsigned char **data,
			       size_t *data_size)
{
		const unsigned char *nul;
	const char *list = KPOP_SERVICES_DEFAULT, *error;

	if (*data_size > 0 && (*data)[0] == KPOP_SERVICES_MARK) {
		nul = memchr(*data, '\0', *data_size);
		if (nul == NULL) {
			e_error(kpop_glue_event(request),
				"KPOP: unterminated service list from the "
				"login process");
			return -1;
		}
		list = t_strdup_until(*data + 1, nul);
		*data_size -= nul + 1 - *data;
		*data = nul + 1;
	}
	if (!kpop_services_check(list, &error)) {
		e_error(kpop_glue_event(request),
			"KPOP: invalid service list from the login process: %s",
			error);
		return -1;
	}
	request->services = (const char *const *)
		p_strsplit_spaces(request->pool, list, " ");
	return 0;
}

void kpop_request_initial(struct kpop_request *request,
			  const unsigned char *data, size_t data_size)
{
	const unsigned char *chunk;
	size_t chunk_size;
	uint32_t total;
	const char *error;

	/* only altpop-login's kpop listener starts this (private mech) */
	if (kpop_services_parse(request, &data, &data_size) < 0) {
		request->state = KPOP_MECH_STATE_DONE;
		kpop_glue_failure(request);
		return;
	}
	if (kpop_mech_initial_parse(data, data_size, &total, &chunk,
				    &chunk_size, &error) < 0) {
		e_error(kpop_glue_event(request),
			"KPOP: %s (the KPOP mechanism can only be used by "
			"altpop-login's kpop listener)", error);
		request->state = KPOP_MECH_STATE_DONE;
		kpop_glue_failure(request);
		return;
	}
	request->ap_req_size = total;
	request->ap_req = buffer_create_dynamic(request->pool,
						I_MIN(total, 4096));
	kpop_ap_req_data(request, chunk, chunk_size);
}

struct kpop_request *kpop_request_new(pool_t pool, void *glue)
{
	struct kpop_request *request;

	request = p_new(pool, struct kpop_request, 1);
	request->pool = pool;
	request->glue = glue;
	return request;
}

void *kpop_request_get_glue(struct kpop_request *request)
{
	return request->glue;
}

void kpop_request_free(struct kpop_request *request)
{
	if (request->ap_req != NULL) {
		safe_memset(buffer_get_modifiable_data(request->ap_req, NULL),
			    0, request->ap_req->used);
	}
	if (request->ctx != NULL) {
		if (request->client != NULL)
			krb5_free_principal(request->ctx, request->client);
		krb5_free_context(request->ctx);
	}
}
