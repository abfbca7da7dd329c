/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_SESSION_H
#define KPOP_SESSION_H

/* A connection of altpop-kpop-login: kpop-session.c reads and writes,
   feeds every event to the machine (kpop-fsm.c) and carries out its
   actions; kpop-login-main.c points login-common's hooks here. */

struct client;
enum client_auth_result;
struct client_auth_reply;

struct client *kpop_session_alloc(pool_t pool);
/* notify_auth_ready: the client speaks first (sendauth) */
void kpop_session_start(struct client *client);
void kpop_session_input(struct client *client);
void kpop_session_auth_challenge(struct client *client, const char *data);
void kpop_session_auth_result(struct client *client,
			      enum client_auth_result result,
			      const struct client_auth_reply *reply,
			      const char *text);
void kpop_session_notify_disconnect(struct client *client,
				    enum client_disconnect_reason reason,
				    const char *text);
void kpop_session_starttls(struct client *client);
void kpop_session_destroy(struct client *client);

#endif
