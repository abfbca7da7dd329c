/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LOGIN_CMD_TABLE_H
#define LOGIN_CMD_TABLE_H

/* What every pre-login command table shares, pure (no login-common): how a
   command takes its arguments, the step from a read line to a command
   name, and the run of bad commands. The tables themselves live beside
   their loops: altpop-login's in login-commands.c, the KPOP port's (after
   the ticket) in kpop-fsm.c. The unit tests and fuzz targets use this
   through kpop-fsm.c without a login process. */

#include "pop3-line-reader.h"
#include "pop3-lang.h"

/* How a command takes its arguments. */
enum login_cmd_args {
	/* the rest of the line after the name, leading spaces skipped */
	LOGIN_CMD_ARGS_SPLIT = 0,
	/* RFC 1939 PASS: the rest of the line after the single space that
	   ends the name; leading spaces belong to the argument (as Dovecot's
	   pop3-login takes it), see login_cmd_args_rest() */
	LOGIN_CMD_ARGS_REST,
	/* AUTH: the command reads its own (possibly long) line */
	LOGIN_CMD_ARGS_RAW,
};

/* What the next command line of the input asks for. */
enum login_cmd_step {
	/* no complete line (or an over-long one, which login-common's
	   client_read() ends): read more input */
	LOGIN_CMD_STEP_MORE = 0,
	/* a bad command: answer *error_r, count it */
	LOGIN_CMD_STEP_BAD,
	/* look *name_r up in the table; *args_r are its LOGIN_CMD_ARGS_SPLIT
	   arguments */
	LOGIN_CMD_STEP_COMMAND,
};

/* Decide a command line read by pop3_line_read(). *name_r (upper case)
   and *args_r are from the data stack or point into line; *error_r is in
   lang (pop3-lang.h). A name no entry of the caller's table takes from a
   line is the caller's unknown command. */
enum login_cmd_step
login_cmd_line_step(enum pop3_lang lang,
		    enum pop3_line_read_result read_result, const char *line,
		    const char **name_r, const char **args_r,
		    const char **error_r);

/* The LOGIN_CMD_ARGS_REST arguments of a line that login_cmd_line_step()
   gave name for. */
const char *login_cmd_args_rest(const char *line, const char *name);

/* Count one more bad command; TRUE when this one is one too many (the
   client is told POP3_MSG_TOO_MANY_BAD_COMMANDS and disconnected). */
bool login_cmd_count_bad(unsigned int *bad_counter, unsigned int max_bad);

#endif
