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
/* login-common's refusal of USER/PASS without TLS */
#  define ALTPOP_AUTH_CLEARTEXT_DISABLED_MSG AUTH_CLEARTEXT_DISABLED_MSG
#else
#  define altpop_client_tls(client) ((client)->tls)
#  define altpop_client_secured(client) ((client)->secured)
#  define altpop_client_trusted(client) ((client)->trusted)
#  define altpop_login_cleartext_allowed(set) \
	(!(set)->disable_plaintext_auth)
#  define altpop_login_proxy_get_ostream(proxy) \
	login_proxy_get_ostream(proxy)
#  define ALTPOP_PROXY_SSL_FLAG_STARTTLS PROXY_SSL_FLAG_STARTTLS
#  define ALTPOP_AUTH_CLEARTEXT_DISABLED_MSG AUTH_PLAINTEXT_DISABLED_MSG
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

#endif
