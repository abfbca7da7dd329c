/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_LOGIN_H
#define ALTPOP_LOGIN_H

#include "pop3-capa.h"
#include "pop3-lang.h"

#include "net.h"
#include "altpop-compat.h"
#include "client-common.h"
#include "auth-client.h"
#include "altpop-login-settings.h"

/* A POP3 APOP timestamp: <pid.connect-uid.time.random@host>. */
#define ALTPOP_APOP_RANDOM_BYTES 16

enum altpop_proxy_state {
	ALTPOP_PROXY_BANNER = 0,
	ALTPOP_PROXY_STARTTLS,
	ALTPOP_PROXY_XCLIENT,
	ALTPOP_PROXY_LOGIN1,
	ALTPOP_PROXY_LOGIN2,

	ALTPOP_PROXY_STATE_COUNT
};

enum altpop_reply {
	ALTPOP_REPLY_OK,
	ALTPOP_REPLY_ERROR,
	ALTPOP_REPLY_AUTH_ERROR,
	ALTPOP_REPLY_TEMPFAIL,
	ALTPOP_REPLY_IN_USE,
};

struct altpop_login_client {
	struct client common;
	const struct altpop_login_settings *set;

	/* name of the command being read (AUTH reads its line itself) */
	char *current_cmd;
	char *last_user;
	char *apop_challenge;
	unsigned int apop_server_pid, apop_connect_uid;

	/* SDPS login of the pending/finished USER (see login-sdps.c) */
	char *sdps_user, *sdps_host;

	/* after a TLS login: altpop's relay to the post-login process
	   (tls-relay.c) */
	struct altpop_tls_relay *tls_relay;

	enum altpop_proxy_state proxy_state;
	bool proxy_xclient:1;
	bool auth_mech_name_parsed:1;
	bool sdps_login:1;
	/* a Kerberos ticket is the authentication (altpop-kpop-login):
	   USER/PASS only name the user, CAPA offers no SASL */
	bool ticket_login:1;
	/* the settings of the TLS SNI name are in set (2.3 glue) */
	bool sni_settings_read:1;
	/* RFC 6856 UTF8 was given */
	bool utf8:1;
	/* RFC 6856 LANG: the language of the replies */
	enum pop3_lang lang;
};

/* login-utf8.c: RFC 6856 UTF8. The command (1 done, 0 client destroyed). */
int altpop_cmd_utf8(struct altpop_login_client *client, const char *args);
/* A USER/PASS argument as authentication gets it: after UTF8, checked
   UTF-8 and SASLprep'd (data stack); otherwise as sent. NULL: the client
   was told why it is refused. */
const char *altpop_utf8_prep(struct altpop_login_client *client,
			     const char *arg, bool password);

/* login-lang.c: RFC 6856 LANG. The command (1 done, 0 client destroyed). */
int altpop_cmd_lang(struct altpop_login_client *client, const char *args);
/* msg in the client's language */
const char *altpop_login_text(struct altpop_login_client *client,
			      enum pop3_msg msg);

/* login-client.c: what both login binaries do the same way (their
   vfunc tables and struct login_binary point here) */
/* TRUE if the client's inet_listener is in the space/comma separated list
   of listener names (altpop_*_listeners; "*" = all, empty = none). */
bool altpop_login_listener_listed(struct client *client,
				  const char *listeners);
struct client *altpop_login_client_alloc(pool_t pool);
/* releases what struct altpop_login_client holds; after a TLS login
   the TLS relay takes the session over */
void altpop_login_client_destroy(struct client *client);
/* the last reference went */
void altpop_login_client_free(struct client *client);
void altpop_login_reply(struct client *client, enum altpop_reply reply,
			const char *text);
void altpop_login_notify_disconnect(struct client *client,
				    enum client_disconnect_reason reason,
				    const char *text);
void altpop_login_notify_starttls(struct client *client, bool success,
				  const char *text);
void altpop_login_starttls(struct client *client);
void altpop_login_preinit(void);
void altpop_login_init(void);
void altpop_login_deinit(void);

/* The client vfuncs both login binaries have alike: STARTTLS's
   notification, the SASL login check, proxying, raw output, freeing. */
#define ALTPOP_LOGIN_COMMON_VFUNCS \
	.notify_starttls = altpop_login_notify_starttls, \
	.sasl_check_login = altpop_login_check_login, \
	.proxy_reset = altpop_proxy_reset, \
	.proxy_parse_line = altpop_proxy_parse_line, \
	.proxy_failed = altpop_proxy_failed, \
	.proxy_get_state = altpop_proxy_get_state, \
	.send_raw_data = client_common_send_raw_data, \
	.free = altpop_login_client_free

/* A login binary of protocol altpop (both binaries: the same settings,
   auth service name and post-login socket login/altpop), in
   login_binary's own field names. */
#define ALTPOP_LOGIN_BINARY(process, vfuncs, ...) { \
	.protocol = "altpop", \
	.process_name = process, \
	.event_category = { .name = "altpop", }, \
	.client_vfuncs = vfuncs, \
	.preinit = altpop_login_preinit, \
	.init = altpop_login_init, \
	.deinit = altpop_login_deinit, \
	.sasl_support_final_reply = FALSE, \
	.anonymous_login_acceptable = TRUE, \
	__VA_ARGS__ \
}

/* login-commands.c: altpop-login's one pre-login command table and its
   command loop (plain listeners, also after STLS). FALSE when the input
   must not be processed further right now. */
bool altpop_login_input_next_cmd(struct client *client);
/* A command function returned ret (1: done, 0: handle no more input
   now): a finished command ends the run of bad commands. Returns TRUE if
   the next command may be read. */
bool altpop_login_command_done(struct altpop_login_client *client, int ret);
/* XCLIENT FORWARD= on a Dovecot whose login-common lacks the safe
   decoding (include/altpop-compat.h): logs that the fields are ignored;
   returns TRUE (the other XCLIENT fields still apply). */
bool altpop_login_forward_unsupported(struct client *client);

/* Answer error and count a bad command; FALSE if the client was
   disconnected for too many. */
bool altpop_login_bad_command(struct altpop_login_client *client,
			      const char *error);

/* login-auth.c */
int altpop_cmd_user(struct altpop_login_client *client, const char *args);
int altpop_cmd_pass(struct altpop_login_client *client, const char *args);
int altpop_cmd_apop(struct altpop_login_client *client, const char *args);
int altpop_cmd_auth(struct altpop_login_client *client);
int altpop_cmd_capa(struct altpop_login_client *client, const char *args);
/* What CAPA announces on this connection before login (RFC 2449 section 5:
   the post-login process announces USER and SASL the same way). */
void altpop_login_capa(struct client *client, enum pop3_capa_flags *flags_r,
		       const char *const **sasl_mechs_r);
char *altpop_apop_challenge_create(struct altpop_login_client *client);
void altpop_login_auth_result(struct client *client,
			      enum client_auth_result result,
			      const struct client_auth_reply *reply,
			      const char *text);

/* login-sdps.c */
bool altpop_sdps_enabled(struct altpop_login_client *client);
/* Map a USER argument: returns the name to authenticate, or NULL after
   replying with an error. Sets or clears the client's SDPS state. */
const char *altpop_sdps_map_user(struct altpop_login_client *client,
				 const char *name);
void altpop_sdps_reset(struct altpop_login_client *client);
/* Proxying: the login name for the backend. After an SDPS login with a
   user part (a view of a host account), "user<sep>account" with the
   backend's account name (the passdb's destuser or the host account),
   so that an altpop backend with SDPS on its listener shows the same
   view; otherwise account itself. */
const char *altpop_sdps_proxy_user(struct altpop_login_client *client,
				   const char *account);
/* A login with an SDPS name succeeded: the altpop_sdps_login event. */
void altpop_sdps_login_event(struct altpop_login_client *client);
/* TRUE when the login is an SDPS view (user@host) */
bool altpop_sdps_is_view(struct altpop_login_client *client);
/* sasl_check_login: hands the SDPS view to the post-login process */
bool altpop_login_check_login(struct client *client);

/* login-proxy.c */
void altpop_proxy_reset(struct client *client);
int altpop_proxy_parse_line(struct client *client, const char *line);
void altpop_proxy_failed(struct client *client,
			 enum login_proxy_failure_type type,
			 const char *reason, bool reconnecting);
const char *altpop_proxy_get_state(struct client *client);

#endif
