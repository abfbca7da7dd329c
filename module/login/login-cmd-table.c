/* SPDX-License-Identifier: LGPL-2.1-only */
/* The pre-login command table of altpop-login (pure data and decisions). */

#include "lib.h"
#include "pop3-line.h"
#include "login-cmd-table.h"

#define PLAIN LOGIN_CMD_STATE_PLAIN
#define KPOP LOGIN_CMD_STATE_KPOP
#define SPLIT LOGIN_CMD_ARGS_SPLIT
static const struct login_command_def login_commands[] = {
	{ "CAPA", PLAIN | KPOP, SPLIT, LOGIN_CMD_CAPA, 0 },
	{ "USER", PLAIN, SPLIT, LOGIN_CMD_USER, 0 },
	{ "PASS", PLAIN, LOGIN_CMD_ARGS_REST, LOGIN_CMD_PASS, 0 },
	{ "APOP", PLAIN, SPLIT, LOGIN_CMD_APOP, 0 },
	{ "AUTH", PLAIN, LOGIN_CMD_ARGS_RAW, LOGIN_CMD_AUTH, 0 },
	{ "STLS", PLAIN, SPLIT, LOGIN_CMD_STLS, 0 },
	{ "QUIT", PLAIN, SPLIT, LOGIN_CMD_QUIT, 0 },
	{ "XCLIENT", PLAIN, SPLIT, LOGIN_CMD_XCLIENT, 0 },
	{ "UTF8", PLAIN, SPLIT, LOGIN_CMD_UTF8, 0 },
	{ "LANG", PLAIN, SPLIT, LOGIN_CMD_LANG, 0 },

	{ "USER", KPOP, SPLIT, LOGIN_CMD_KPOP_USER, 0 },
	{ "PASS", KPOP, SPLIT, LOGIN_CMD_KPOP_PASS, 0 },
	{ "STLS", KPOP, SPLIT, LOGIN_CMD_KPOP_STLS, 0 },
	{ "QUIT", KPOP, SPLIT, LOGIN_CMD_KPOP_QUIT, 0 },
	{ "AUTH", KPOP, SPLIT, LOGIN_CMD_REFUSED,
	  POP3_MSG_KPOP_PORT_REFUSAL },
	{ "APOP", KPOP, SPLIT, LOGIN_CMD_REFUSED,
	  POP3_MSG_KPOP_PORT_REFUSAL },
};
#undef PLAIN
#undef KPOP
#undef SPLIT

/* The answer to a command no entry allows in the state. */
static enum pop3_msg login_unknown_command_msg(enum login_cmd_state state)
{
	switch (state) {
	case LOGIN_CMD_STATE_PLAIN:
		return POP3_MSG_UNKNOWN_COMMAND;
	case LOGIN_CMD_STATE_KPOP:
		return POP3_MSG_KPOP_UNKNOWN_COMMAND;
	}
	i_unreached();
}

const struct login_command_def *
login_cmd_find(const char *name, enum login_cmd_state state)
{
	for (unsigned int i = 0; i < N_ELEMENTS(login_commands); i++) {
		if ((login_commands[i].states & state) != 0 &&
		    strcmp(login_commands[i].name, name) == 0)
			return &login_commands[i];
	}
	return NULL;
}

enum login_cmd_step
login_cmd_line_step(enum login_cmd_state state, enum pop3_lang lang,
		    enum pop3_line_read_result read_result, const char *line,
		    const struct login_command_def **cmd_r,
		    const char **args_r, const char **error_r)
{
	const struct login_command_def *cmd;
	const char *name, *args;

	*cmd_r = NULL;
	*args_r = NULL;
	*error_r = NULL;
	switch (read_result) {
	case POP3_LINE_READ_MORE:
	case POP3_LINE_READ_TOO_LONG:
		return LOGIN_CMD_STEP_MORE;
	case POP3_LINE_READ_BAD_BYTES:
		*error_r = pop3_lang_text(lang, POP3_MSG_LOGIN_INVALID_CHARS);
		return LOGIN_CMD_STEP_BAD;
	case POP3_LINE_READ_OK:
		break;
	}
	if (!pop3_line_split(line, lang, &name, &args, error_r))
		return LOGIN_CMD_STEP_BAD;
	cmd = login_cmd_find(name, state);
	if (cmd == NULL || cmd->args == LOGIN_CMD_ARGS_RAW) {
		/* a raw command is taken before its line is read (see
		   altpop_login_input_next_cmd()); a line that gets here with
		   its name is none of it */
		*error_r = pop3_lang_text(lang,
					  login_unknown_command_msg(state));
		return LOGIN_CMD_STEP_BAD;
	}
	if (cmd->id == LOGIN_CMD_REFUSED) {
		*error_r = pop3_lang_text(lang, cmd->refusal);
		return LOGIN_CMD_STEP_BAD;
	}
	if (cmd->args == LOGIN_CMD_ARGS_REST) {
		args = line + strlen(name);
		if (*args == ' ')
			args++;
	}
	*cmd_r = cmd;
	*args_r = args;
	return LOGIN_CMD_STEP_RUN;
}

bool login_cmd_count_bad(unsigned int *bad_counter, unsigned int max_bad)
{
	return ++*bad_counter >= max_bad;
}
