/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LOGIN_KPOP_H
#define LOGIN_KPOP_H

/* The KPOP states of altpop-login, shared by its files:
     kpop-fsm.c            the pure transitions: state + input -> action
                           and next state (no login-common)
     login-kpop.c          applies the actions (kpop_apply(),
                           kpop_enter_state()), the timeouts, the vfunc
                           takeover, the command loop of the KPOP port
     login-kpop-sendauth.c the sendauth phase (the client's versions and
                           AP-REQ, framed by module/lib/sendauth.c)
     login-kpop-auth.c     the glue to the private KPOP mechanism (ticket
                           verification, USER name, login result) */

#include "kpop-fsm.h"

struct kpop_client {
	struct client *client;
	/* the vfuncs altpop-login had before KPOP took over */
	struct client_vfuncs super;

	enum kpop_state state;
	struct sendauth_parser parser;
	struct timeout *to;

	/* bytes of the AP-REQ handed to the mechanism so far */
	size_t ap_req_sent;
	char *user;
	char *failure;

	bool send_more:1;
	bool send_reject_ack:1;
	bool mutual:1;
};

struct kpop_client *kpop_client_get(struct client *client);
/* The one place that changes the state: starts the state's timeout and
   logs the transition. */
void kpop_enter_state(struct kpop_client *kpop, enum kpop_state state);
/* Apply an action of kpop-fsm.c: enter its state, write its bytes and
   reply, do what it says. TRUE: go on with the buffered input. */
bool kpop_apply(struct kpop_client *kpop, const struct kpop_action *action);
void kpop_destroy(struct kpop_client *kpop, const char *reason);
/* POP3 command lines in KPOP_STATE_COMMANDS */
void kpop_commands_input(struct kpop_client *kpop);
/* Read and drop input while the failure reply is due. */
void kpop_drain_input(struct kpop_client *kpop);

/* login-kpop-sendauth.c: input in KPOP_STATE_SENDAUTH */
void kpop_sendauth_input(struct kpop_client *kpop);

/* login-kpop-auth.c */
/* The AP-REQ is complete: hand it to the mechanism (or wait for the auth
   server connection). */
void kpop_begin_auth(struct kpop_client *kpop);
/* PASS (state LOGGING_IN): the USER name goes to the mechanism, the
   login follows. */
void kpop_send_user(struct kpop_client *kpop);
/* The ticket was accepted (KPOP_ACTION_GREET): the AP-REP and the
   greeting go out. */
void kpop_auth_accepted(struct kpop_client *kpop,
			const unsigned char *ap_rep, size_t ap_rep_size);
/* The ticket was refused (KPOP_ACTION_REJECT): the KRB-ERROR goes out. */
void kpop_auth_rejected(struct kpop_client *kpop,
			const struct kpop_action *action);
void kpop_auth_send_challenge(struct client *client, const char *data);
void kpop_auth_result(struct client *client, enum client_auth_result result,
		      const struct client_auth_reply *reply, const char *text);

#endif
