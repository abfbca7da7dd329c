/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LOGIN_CMD_TABLE_H
#define LOGIN_CMD_TABLE_H

/* The one pre-login command table of altpop-login as data: which command
   is allowed in which pre-login state, how it takes its arguments, and the
   run of bad commands. Pure (no login-common): login-commands.c runs the
   commands, kpop-fsm.c decides the KPOP port's commands, and the unit
   tests use both without a login process. */

#include "pop3-line-reader.h"
#include "pop3-lang.h"

/* The states a pre-login command may be allowed in. */
enum login_cmd_state {
	/* before login on an ordinary listener (also after STLS) */
	LOGIN_CMD_STATE_PLAIN = 0x01,
	/* on a KPOP listener after the ticket was accepted */
	LOGIN_CMD_STATE_KPOP = 0x02,
};

/* How a command takes its arguments. */
enum login_cmd_args {
	/* the rest of the line after the name, leading spaces skipped */
	LOGIN_CMD_ARGS_SPLIT = 0,
	/* RFC 1939 PASS: the rest of the line after the single space that
	   ends the name; leading spaces belong to the argument (as Dovecot's
	   pop3-login takes it) */
	LOGIN_CMD_ARGS_REST,
	/* AUTH: the command reads its own (possibly long) line */
	LOGIN_CMD_ARGS_RAW,
};

/* Every command of the table; login-commands.c has the function of each
   one it runs, kpop-fsm.c decides the KPOP_USER/PASS/QUIT ones itself. */
enum login_cmd_id {
	LOGIN_CMD_CAPA = 0,
	LOGIN_CMD_USER,
	LOGIN_CMD_PASS,
	LOGIN_CMD_APOP,
	LOGIN_CMD_AUTH,
	LOGIN_CMD_STLS,
	LOGIN_CMD_QUIT,
	LOGIN_CMD_XCLIENT,
	LOGIN_CMD_UTF8,
	LOGIN_CMD_LANG,
	LOGIN_CMD_KPOP_USER,
	LOGIN_CMD_KPOP_PASS,
	LOGIN_CMD_KPOP_STLS,
	LOGIN_CMD_KPOP_QUIT,
	/* refused with the entry's refusal text */
	LOGIN_CMD_REFUSED,

	LOGIN_CMD_COUNT
};

struct login_command_def {
	const char *name;
	enum login_cmd_state states;
	enum login_cmd_args args;
	enum login_cmd_id id;
	/* LOGIN_CMD_REFUSED: the answer, counted as a bad command */
	enum pop3_msg refusal;
};

/* What the next command line of the input asks for. */
enum login_cmd_step {
	/* no complete line (or an over-long one, which login-common's
	   client_read() ends): read more input */
	LOGIN_CMD_STEP_MORE = 0,
	/* a bad command: answer *error_r, count it */
	LOGIN_CMD_STEP_BAD,
	/* run *cmd_r with *args_r */
	LOGIN_CMD_STEP_RUN,
};

const struct login_command_def *
login_cmd_find(const char *name, enum login_cmd_state state);

/* Decide a command line read by pop3_line_read() in a state. Names and
   args are from the data stack (or point into line); *error_r is in lang
   (pop3-lang.h). */
enum login_cmd_step
login_cmd_line_step(enum login_cmd_state state, enum pop3_lang lang,
		    enum pop3_line_read_result read_result, const char *line,
		    const struct login_command_def **cmd_r,
		    const char **args_r, const char **error_r);

/* Count one more bad command; TRUE when this one is one too many (the
   client is told POP3_MSG_TOO_MANY_BAD_COMMANDS and disconnected). */
bool login_cmd_count_bad(unsigned int *bad_counter, unsigned int max_bad);

#endif
