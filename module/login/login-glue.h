/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_LOGIN_GLUE_H
#define ALTPOP_LOGIN_GLUE_H

/* What altpop-login does differently on Dovecot 2.3 and 2.4, behind one
   API. configure builds exactly one of login-glue-23.c / login-glue-24.c;
   everything else in module/login is shared. Plain renames (client
   fields, proxy stream names) are macros in include/altpop-compat.h. */

struct client;
struct client_vfuncs;
struct login_binary;
struct altpop_login_client;

/* Called once from main() before login_binary_run(): fills in the members
   of struct login_binary only one version has (2.4: the TLS ALPN name). */
void altpop_login_glue_binary_init(struct login_binary *binary);

/* Called once from main(): fills in the vfuncs whose shape differs
   between versions. "create" looks up the client's altpop settings
   (2.3: from login-common's other_sets, 2.4: settings_get(), failing the
   client if that fails); 2.4 also gets "reload_config" (re-read after a
   TLS SNI name changed the local_name filter). */
void altpop_login_glue_vfuncs_init(struct client_vfuncs *v);

/* login_binary.preinit: makes the altpop settings known to login-common
   (2.3: login_set_roots; 2.4: nothing to do). */
void altpop_login_glue_preinit(void);

/* Before client input is handled: makes aclient->set the settings of the
   TLS SNI name if the client sent one (local_name { } filters). 2.3's
   login-common re-reads only its own settings for it, so the 2.3 glue
   reads ours here; on 2.4 reload_config has done it already. */
void altpop_login_glue_settings_refresh(struct altpop_login_client *aclient);

/* XCLIENT changed the client's addresses, on a Dovecot whose
   login-common lacks client_addresses_changed() (before 2.4.3, through
   include/altpop-compat.h): puts them into the client's event fields
   (local_ip, local_port, remote_ip, remote_port) as login-common did at
   connect. The settings stay those of the connection's own addresses.
   Returns 0. */
int altpop_login_glue_addresses_changed(struct client *client,
					const char **error_r);

/* From the destroy vfunc: releases what create looked up. */
void altpop_login_glue_settings_free(struct altpop_login_client *aclient);

/* Makes callback the reader of client input during a SASL exchange that
   answers the mechanism itself (client_auth_respond()), as
   altpop-kpop-login does (v->auth_parse_response; 2.3 returns nothing,
   2.4 returns whether login-common should pass auth_response on, which
   such a reader never wants). One callback per process. */
void altpop_login_glue_set_auth_input(struct client_vfuncs *v,
				      void (*callback)(struct client *client));

/* The client sent "*" during a SASL exchange: abort it (2.3:
   client_auth_abort(); 2.4: login-common's response path, which
   treats "*" so). */
void altpop_login_glue_auth_abort(struct client *client);

/* TRUE if altpop's TLS relay may take the session over from
   login-common's proxy (2.4: not when the client output is multiplexed,
   which the post-login process then handles). */
bool altpop_login_glue_tls_relay_possible(struct client *client);

#endif
