/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_FSM_H
#define KPOP_FSM_H

/* The KPOP state machine of altpop-kpop-login, pure: every event of a
   connection (the client's bytes, the auth server connection, the
   mechanism's challenge, the login result, a POP3 command line, a timeout,
   input while the machine waits) goes in here, and comes out as one action
   for kpop-session.c to carry out. This file is the only place that
   changes the state and the other facts of the exchange (the sendauth
   parser, how much of the AP-REQ went to the mechanism, the USER name, the
   chunk and acknowledgement the mechanism waits for). No login-common, no
   I/O: tests/unit/test-kpop-fsm.c and the fuzz target drive it with
   bytes. */

#include "sendauth.h"
#include "login-cmd-table.h"

/* The KPOP port does not offer RFC 6856 LANG: its replies are in the
   default language of the one text table (pop3-lang.h). */
#define KPOP_LANG POP3_LANG_DEFAULT
#define KPOP_TEXT(msg) pop3_lang_text(KPOP_LANG, (msg))

enum kpop_state {
	/* read "KRB5_SENDAUTH_V1.0" and "KPOPV1.0", answer the verdict
	   byte, read the AP-REQ into a buffer of its own */
	KPOP_STATE_SENDAUTH = 0,
	/* AP-REQ complete, waiting for the auth server connection */
	KPOP_STATE_WAIT_AUTH,
	/* the private KPOP mechanism checks the ticket (large AP-REQs go
	   in chunks) */
	KPOP_STATE_VERIFYING,
	/* ticket accepted, greeting written: CAPA, STLS, USER, PASS, QUIT */
	KPOP_STATE_COMMANDS,
	/* PASS seen: the USER name went to the mechanism */
	KPOP_STATE_LOGGING_IN,
	/* the ticket was refused, the KRB-ERROR is written, the failure
	   reply is due */
	KPOP_STATE_REJECTED,
	/* protocol error from the auth side: closed on the next input */
	KPOP_STATE_FAILED,
};
#define KPOP_STATE_COUNT (KPOP_STATE_FAILED + 1)

/* The POP3 reply an action writes (see altpop_login_reply()). */
enum kpop_reply {
	KPOP_REPLY_NONE = 0,
	KPOP_REPLY_OK,
	KPOP_REPLY_ERROR,
	KPOP_REPLY_TEMPFAIL,
};

/* What a read of the client's input gave (i_stream_read()). */
enum kpop_read {
	/* bytes (or none new) are buffered */
	KPOP_READ_OK = 0,
	/* the client closed the connection */
	KPOP_READ_EOF,
	/* the input buffer is full */
	KPOP_READ_FULL,
};

/* The KPOP port's commands after the ticket (kpop-fsm.c's table; every
   one takes its arguments as LOGIN_CMD_ARGS_SPLIT). */
enum kpop_command_kind {
	/* decided by the machine */
	KPOP_COMMAND_USER = 0,
	KPOP_COMMAND_PASS,
	KPOP_COMMAND_QUIT,
	/* run by the login process (KPOP_ACTION_RUN_COMMAND) */
	KPOP_COMMAND_CAPA,
	KPOP_COMMAND_STLS,
	/* refused with the entry's refusal, counted as a bad command */
	KPOP_COMMAND_REFUSED,
};

struct kpop_command {
	const char *name;
	enum kpop_command_kind kind;
	/* KPOP_COMMAND_REFUSED: the answer */
	enum pop3_msg refusal;
};

enum kpop_action_kind {
	/* nothing more to do with the input now: wait for more */
	KPOP_ACTION_READ_MORE = 0,
	/* write what the action says, then feed the buffered input again */
	KPOP_ACTION_CONTINUE,
	/* the AP-REQ arrived while the auth server is away: stop reading
	   until it is back (the input stays buffered) */
	KPOP_ACTION_WAIT_AUTH,
	/* start the private mechanism with data (the services list and the
	   first AP-REQ chunk; wipe it after use) */
	KPOP_ACTION_BEGIN_AUTH,
	/* answer the mechanism with data (the next AP-REQ chunk, the USER
	   name, or nothing: the acknowledgement of a rejection) */
	KPOP_ACTION_AUTH_RESPOND,
	/* the input is POP3 command lines: read them one by one and feed
	   each to kpop_fsm_command() */
	KPOP_ACTION_READ_COMMANDS,
	/* a command the login process runs itself (KPOP_COMMAND_CAPA,
	   KPOP_COMMAND_STLS) */
	KPOP_ACTION_RUN_COMMAND,
	/* ticket accepted: 00000000, the AP-REP in data (mutual
	   authentication when not empty), the greeting */
	KPOP_ACTION_GREET,
	/* ticket refused: the KRB-ERROR in data (framed when not empty) goes
	   out; the failure reply follows after the acknowledgement */
	KPOP_ACTION_REJECT,
	/* the login result in POP3 (altpop-login's reply), then, with a
	   reason, the end of the connection */
	KPOP_ACTION_LOGIN_RESULT,
	/* write what the action says, then disconnect with reason (NULL: the
	   client logged out) */
	KPOP_ACTION_DISCONNECT,
};

struct kpop_action {
	enum kpop_action_kind kind;
	/* the machine entered a new state: its timeout (0: the running one
	   goes on) */
	bool state_changed;
	unsigned int timeout_msecs;

	/* bytes written first (the verdict byte, the Kerberos IV notice) */
	const void *raw;
	size_t raw_size;
	/* then this POP3 reply */
	enum kpop_reply reply;
	const char *reply_text;
	/* then POP3_MSG_TOO_MANY_BAD_COMMANDS (with KPOP_ACTION_DISCONNECT) */
	bool too_many_bad;

	/* KPOP_ACTION_RUN_COMMAND */
	const struct kpop_command *cmd;
	const char *args;
	/* GREET, REJECT: the AP-REP / KRB-ERROR; BEGIN_AUTH, AUTH_RESPOND:
	   the bytes for the mechanism (base64 encoded by the session) */
	const unsigned char *data;
	size_t data_size;
	/* BEGIN_AUTH: data carries the ticket, in a data stack buffer the
	   session wipes once it has encoded it */
	unsigned char *secret;
	/* the log reason (DISCONNECT, and LOGIN_RESULT when it ends the
	   connection) */
	const char *reason;
	/* an admin-facing error to log (a broken auth process, a missing
	   mechanism) */
	const char *log_error;

	/* storage of raw for the verdict byte */
	unsigned char verdict;
};

struct kpop_fsm {
	enum kpop_state state;
	struct sendauth_parser parser;
	/* the services tickets may be for (altpop_kpop_services) */
	char *services;
	unsigned int max_bad_commands;

	/* bytes of the AP-REQ handed to the mechanism so far */
	size_t ap_req_sent;
	/* the USER name (after the greeting) */
	char *user;
	/* why the exchange failed (REJECTED, FAILED) */
	char *failure;
	/* the mechanism asked for the next AP-REQ chunk */
	bool chunk_due:1;
	/* the mechanism waits for the acknowledgement of its rejection */
	bool reject_ack_due:1;
	/* the greeting is out: the client reads POP3 */
	bool greeted:1;
};

void kpop_fsm_init(struct kpop_fsm *fsm, size_t max_ap_req_size,
		   const char *services, unsigned int max_bad_commands);
void kpop_fsm_deinit(struct kpop_fsm *fsm);

const char *kpop_state_name(enum kpop_state state);
/* The timeout that starts when the state is entered (0: the running
   timeout goes on). */
unsigned int kpop_state_timeout_msecs(enum kpop_state state);

/* Event: a connection on the kpop listener, the auth process offers the
   KPOP mechanism or not. */
void kpop_fsm_start(struct kpop_fsm *fsm, bool mech_available,
		    struct kpop_action *action_r);

/* Event: the client's input is readable (also login-common's SASL input
   callback). data/size: what is buffered; *consumed_r of it is used.
   auth_connected: the auth server connection is up. Call again after
   CONTINUE with the rest. */
void kpop_fsm_input(struct kpop_fsm *fsm, enum kpop_read read,
		    const unsigned char *data, size_t size,
		    bool auth_connected, size_t *consumed_r,
		    struct kpop_action *action_r);

/* Event: the mechanism's challenge (decoded; NULL or empty: it could not
   be decoded or was empty). */
void kpop_fsm_challenge(struct kpop_fsm *fsm, const unsigned char *msg,
			size_t size, struct kpop_action *action_r);

/* Event: a POP3 command line as pop3_line_read() gave it (after
   KPOP_ACTION_READ_COMMANDS). bad_counter counts the bad commands in a
   row (login-common's client->bad_counter). */
void kpop_fsm_command(struct kpop_fsm *fsm,
		      enum pop3_line_read_result read_result,
		      const char *line, unsigned int *bad_counter,
		      struct kpop_action *action_r);

/* Event: TLS started (STLS): nothing said in plaintext carries over. */
void kpop_fsm_tls_started(struct kpop_fsm *fsm);

/* Event: login-common's authentication result. success: logged in (or
   referred). mech_invalid: the auth process does not know the KPOP
   mechanism. text: login-common's reason. */
void kpop_fsm_auth_result(struct kpop_fsm *fsm, bool success,
			  bool mech_invalid, const char *text,
			  struct kpop_action *action_r);

/* Event: the running timeout fired. */
void kpop_fsm_timeout(struct kpop_fsm *fsm, struct kpop_action *action_r);

/* May login-common's POP3 texts (a disconnect reason) reach the client
   now? Only once the greeting is out. */
bool kpop_fsm_speaks_pop3(const struct kpop_fsm *fsm);

#endif
