/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_COMPAT_H
#define ALTPOP_COMPAT_H

/* Renames between Dovecot 2.3 and 2.4, in one place. Everything bigger
   than a rename lives in the version glue files that configure picks
   (the *-glue-23.c / *-glue-24.c files of each process, settings-module-2x.c).
   Include after lib.h. */

#if DOVECOT_VERSION_MAJOR > 2 || \
	(DOVECOT_VERSION_MAJOR == 2 && DOVECOT_VERSION_MINOR >= 4)
#  define ALTPOP_DOVECOT_24
#endif

/* ---- lib ---- */
#ifdef ALTPOP_DOVECOT_24
/* 2.4: str_begins(s, p, &suffix); str_begins_with(s, p) is the old test */
#  define altpop_str_begins(s, prefix) str_begins_with(s, prefix)
/* 2.4's base64_decode() lost its src_pos_r parameter */
#  define altpop_base64_decode(src, src_size, dest) \
	base64_decode(src, src_size, dest)
#else
#  define altpop_str_begins(s, prefix) str_begins(s, prefix)
#  define altpop_base64_decode(src, src_size, dest) \
	base64_decode(src, src_size, NULL, dest)
#endif
#ifdef ALTPOP_HAVE_EVENT_ADD_IP
/* 2.4: IP fields are typed (filters match them against networks) */
#  define altpop_event_add_ip(event, key, ip) event_add_ip(event, key, ip)
#else
/* 2.3 sends IPs as strings, as its own processes do */
#  define altpop_event_add_ip(event, key, ip) \
	event_add_str(event, key, net_ip2addr(ip))
#endif

/* ---- login process (module/login) ---- */
#ifdef ALTPOP_DOVECOT_24
/* struct client: TLS on this hop / plaintext is safe / proxy is trusted */
#  define altpop_client_tls(client) ((client)->connection_tls_secured)
#  define altpop_client_secured(client) ((client)->connection_secured)
#  define altpop_client_trusted(client) ((client)->connection_trusted)
/* struct login_settings: USER/PASS and PLAIN allowed without TLS */
#  define altpop_login_cleartext_allowed(set) ((set)->auth_allow_cleartext)
/* the stream towards the backend of a proxied login */
#  define altpop_login_proxy_get_ostream(proxy) \
	login_proxy_get_server_ostream(proxy)
#  define ALTPOP_PROXY_SSL_FLAG_STARTTLS AUTH_PROXY_SSL_FLAG_STARTTLS
#else
#  define altpop_client_tls(client) ((client)->tls)
#  define altpop_client_secured(client) ((client)->secured)
#  define altpop_client_trusted(client) ((client)->trusted)
#  define altpop_login_cleartext_allowed(set) \
	(!(set)->disable_plaintext_auth)
#  define altpop_login_proxy_get_ostream(proxy) \
	login_proxy_get_ostream(proxy)
#  define ALTPOP_PROXY_SSL_FLAG_STARTTLS PROXY_SSL_FLAG_STARTTLS
#endif

/* Features some Dovecots lack: configure checks the headers and passes
   ALTPOP_HAVE_* (README, Supported Dovecot versions). */
#ifdef ALTPOP_HAVE_SASL_PROXY
/* 2.4.2+: login-common's SASL client side is sasl-proxy.h */
#  define altpop_sasl_find_available_mech(client, name) \
	sasl_proxy_find_available_mech(client, name)
#  define altpop_sasl_get_advertised_mechs(client, count_r) \
	sasl_proxy_get_advertised_mechs(client, count_r)
#else
#  define altpop_sasl_find_available_mech(client, name) \
	sasl_server_find_available_mech(client, name)
#  define altpop_sasl_get_advertised_mechs(client, count_r) \
	sasl_server_get_advertised_mechs(client, count_r)
#endif
#ifdef ALTPOP_HAVE_LOGIN_BINARY_SERVICE_NAME
/* 2.4.2+: the service login-common names in anvil lookups */
#  define altpop_login_binary_set_service_name(binary, name) \
	((binary)->service_name = (name))
#else
#  define altpop_login_binary_set_service_name(binary, name) ((void)(name))
#endif
#ifdef ALTPOP_HAVE_PROXY_AUTH_REPLIED
/* 2.4.2+ and Debian's 2.3.19.1: the proxy's auth failure says whether
   the client was answered */
#  define altpop_proxy_failure_auth_replied(type) \
	((type) == LOGIN_PROXY_FAILURE_TYPE_AUTH_REPLIED || \
	 (type) == LOGIN_PROXY_FAILURE_TYPE_AUTH_LIMIT_REACHED_REPLIED)
#  define altpop_proxy_failure_auth_not_replied(type) \
	((type) == LOGIN_PROXY_FAILURE_TYPE_AUTH_NOT_REPLIED)
#else
/* older: one AUTH type, and the protocol has always answered */
#  define LOGIN_PROXY_FAILURE_TYPE_AUTH_REPLIED LOGIN_PROXY_FAILURE_TYPE_AUTH
#  define altpop_proxy_failure_auth_replied(type) \
	((type) == LOGIN_PROXY_FAILURE_TYPE_AUTH)
#  define altpop_proxy_failure_auth_not_replied(type) FALSE
#endif
#ifdef ALTPOP_HAVE_AUTH_RESULT_LIMIT_REACHED
#  define altpop_auth_result_limit_reached(result, text) \
	((result) == CLIENT_AUTH_RESULT_LIMIT_REACHED)
#else
/* older login-common reports mail_max_userip_connections as a temporary
   failure with this text */
#  define ALTPOP_USERIP_LIMIT_TEXT \
	"Maximum number of connections from user+IP exceeded"
#  define altpop_auth_result_limit_reached(result, text) \
	((result) == CLIENT_AUTH_RESULT_TEMPFAIL && (text) != NULL && \
	 strncmp((text), ALTPOP_USERIP_LIMIT_TEXT, \
		 strlen(ALTPOP_USERIP_LIMIT_TEXT)) == 0)
#endif
#ifdef ALTPOP_HAVE_CLIENT_FORWARD_DECODE
/* XCLIENT FORWARD= decoded and namespaced by login-common (the
   CVE-2026-42008/42395 fixes) */
#  define altpop_client_forward_decode(client, value) \
	client_forward_decode_base64(client, value)
#else
/* without login-common's safe decoding, forwarded fields are ignored
   (login-commands.c logs it) */
#  define altpop_client_forward_decode(client, value) \
	altpop_login_forward_unsupported(client)
#endif
#ifdef ALTPOP_HAVE_CLIENT_ADDRESSES_CHANGED
/* 2.4.3+: after XCLIENT, login-common updates the event fields and
   reads the settings of the new addresses again */
#  define altpop_client_addresses_changed(client, error_r) \
	client_addresses_changed(client, error_r)
#else
/* older: the event fields only (login-glue-2x.c) */
#  define altpop_client_addresses_changed(client, error_r) \
	altpop_login_glue_addresses_changed(client, error_r)
#endif

/* ---- mail process (module/mail) ---- */
#ifdef ALTPOP_DOVECOT_24
/* 2.4 writes all changes on every sync: the flag is gone */
#  define ALTPOP_MAILBOX_SYNC_FLAG_FULL_WRITE 0
#  define altpop_mail_user_service_user(user) ((user)->service_user)
#  define altpop_mailbox_list_get_mail_set(list) \
	mailbox_list_get_mail_set(list)
#else
#  define ALTPOP_MAILBOX_SYNC_FLAG_FULL_WRITE MAILBOX_SYNC_FLAG_FULL_WRITE
#  define altpop_mail_user_service_user(user) ((user)->_service_user)
#  define altpop_mailbox_list_get_mail_set(list) \
	(mailbox_list_get_namespace(list)->mail_set)
#endif
#ifdef ALTPOP_HAVE_RAWLOG_EVENT
/* 2.4.2+: rawlogs name their setting and log through an event */
#  define altpop_iostream_rawlog_create(event, dir, input, output) \
	iostream_rawlog_create(event, "rawlog_dir", dir, input, output)
#else
#  define altpop_iostream_rawlog_create(event, dir, input, output) \
	iostream_rawlog_create(dir, input, output)
#endif

/* ---- auth process (module/auth) ---- */
#ifdef ALTPOP_HAVE_PASSDB_PARAMETERS
/* 2.4.3+: a passdb's preinit also gets the passdb's parameters (whether
   it is cached) before the module pointer */
#  define ALTPOP_PASSDB_PREINIT_PARAMS \
	const struct passdb_parameters *passdb_params ATTR_UNUSED,
#  define ALTPOP_PASSDB_PARAMS_ARG passdb_params,
#else
#  define ALTPOP_PASSDB_PREINIT_PARAMS
#  define ALTPOP_PASSDB_PARAMS_ARG
#endif
/* a passdb's auth cache key that names the user */
#ifdef ALTPOP_HAVE_AUTH_CACHE_KEY_USER
#  define ALTPOP_CACHE_KEY_USER AUTH_CACHE_KEY_USER
#else
#  define ALTPOP_CACHE_KEY_USER "%u"
#endif
/* 2.4: the passdb's default cache key (used when auth_cache_size is set),
   with the variables of its fields; 2.4.3+ parse it only for a cached
   passdb and return errors */
#ifdef ALTPOP_HAVE_PASSDB_PARAMETERS
#  define altpop_passdb_set_cache_key(module, params, pool, query, fields, \
				      driver, error_r) \
	passdb_set_cache_key(module, params, pool, query, fields, driver, \
			     error_r)
#else
#  define altpop_passdb_set_cache_key(module, params, pool, query, fields, \
				      driver, error_r) \
	((module)->default_cache_key = \
	 auth_cache_parse_key_and_fields(pool, query, fields, driver), 0)
#endif

#endif
