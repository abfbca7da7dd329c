/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_FSM_H
#define KPOP_FSM_H

/* The KPOP state machine of altpop-login as pure decisions: a state and an
   input event (sendauth bytes, the mechanism's challenge, a POP3 command
   line, a timeout) give the action to take and the state to enter. No
   login-common, no I/O: login-kpop*.c apply the actions (kpop_enter_state()
   is the one place that sets the state), tests/unit/test-kpop-fsm.c drives
   it with bytes. */

#include "sendauth.h"
#include "login-cmd-table.h"

/* The KPOP port does not offer RFC 6856 LANG: its replies are in the
   default language of the one text table (pop3-lang.h). */
#define KPOP_LANG POP3_LANG_DEFAULT
#define KPOP_TEXT(msg) pop3_lang_text(KPOP_LANG, (msg))

enum kpop_state {
	KPOP_STATE_SENDAUTH = 0,
	KPOP_STATE_WAIT_AUTH,
	KPOP_STATE_VERIFYING,
	KPOP_STATE_COMMANDS,
	KPOP_STATE_LOGGING_IN,
	KPOP_STATE_REJECTED,
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

enum kpop_action_kind {
	/* the buffered input holds no complete event: read more */
	KPOP_ACTION_READ_MORE = 0,
	/* write what the action says, then go on with the input */
	KPOP_ACTION_CONTINUE,
	/* the AP-REQ is complete: hand it to the auth glue (which enters
	   VERIFYING, or WAIT_AUTH while the auth server is away) */
	KPOP_ACTION_BEGIN_AUTH,
	/* a table command the login process runs itself (CAPA, STLS) */
	KPOP_ACTION_RUN_COMMAND,
	/* USER: args is the name to keep; the reply follows */
	KPOP_ACTION_SET_USER,
	/* PASS: the USER name goes to the mechanism */
	KPOP_ACTION_SEND_USER,
	/* the mechanism wants the next AP-REQ chunk */
	KPOP_ACTION_SEND_MORE,
	/* ticket accepted: 00000000, the AP-REP in data (mutual
	   authentication when not empty), the greeting */
	KPOP_ACTION_GREET,
	/* ticket refused: the KRB-ERROR in data (framed when not empty) goes
	   out, reason is kept; the failure reply follows */
	KPOP_ACTION_REJECT,
	/* keep reason, destroy on the next input callback (not inside
	   login-common's SASL callback) */
	KPOP_ACTION_FAIL,
	/* write what the action says, then disconnect with reason (NULL: the
	   client logged out) */
	KPOP_ACTION_DISCONNECT,
};

struct kpop_action {
	enum kpop_action_kind kind;
	/* the state to enter (the current one: no change) */
	enum kpop_state next_state;

	/* bytes written first (the verdict byte, the Kerberos IV notice) */
	const void *raw;
	size_t raw_size;
	/* then this POP3 reply */
	enum kpop_reply reply;
	const char *reply_text;
	/* then POP3_MSG_TOO_MANY_BAD_COMMANDS (with KPOP_ACTION_DISCONNECT) */
	bool too_many_bad;

	/* KPOP_ACTION_RUN_COMMAND, KPOP_ACTION_SET_USER */
	const struct login_command_def *cmd;
	const char *args;
	/* KPOP_ACTION_GREET, KPOP_ACTION_REJECT */
	const unsigned char *data;
	size_t data_size;
	/* the log reason (DISCONNECT, FAIL, REJECT) */
	const char *reason;
	/* an admin-facing error to log (a broken auth process) */
	const char *log_error;

	/* storage of raw for the verdict byte */
	unsigned char verdict;
};

const char *kpop_state_name(enum kpop_state state);
/* The timeout that starts when the state is entered (0: the running
   timeout goes on). */
unsigned int kpop_state_timeout_msecs(enum kpop_state state);

/* KPOP_STATE_SENDAUTH: feed the buffered bytes; *consumed_r of them are
   used. Call again with the rest after CONTINUE. */
void kpop_fsm_sendauth(struct sendauth_parser *parser,
		       const unsigned char *data, size_t size,
		       size_t *consumed_r, struct kpop_action *action_r);

/* The mechanism's challenge (decoded; NULL or empty: it could not be
   decoded or was empty); ap_req_sent of
   ap_req_size AP-REQ bytes went to the mechanism so far. */
void kpop_fsm_challenge(enum kpop_state state, const unsigned char *msg,
			size_t size, size_t ap_req_sent, size_t ap_req_size,
			struct kpop_action *action_r);

/* KPOP_STATE_COMMANDS: a POP3 command line as pop3_line_read() gave it.
   have_user: a USER name is kept. bad_counter counts the bad commands in a
   row (login-common's client->bad_counter). */
void kpop_fsm_command(enum kpop_state state,
		      enum pop3_line_read_result read_result, const char *line,
		      bool have_user, unsigned int *bad_counter,
		      unsigned int max_bad, struct kpop_action *action_r);

/* The state's timeout fired. */
void kpop_fsm_timeout(enum kpop_state state,
		      const struct sendauth_parser *parser,
		      const char *failure, struct kpop_action *action_r);

/* Why a connection ends that is past the ticket or failed (the kept
   failure, "connection closed" without one). */
const char *kpop_fsm_end_reason(enum kpop_state state, const char *failure);

#endif
