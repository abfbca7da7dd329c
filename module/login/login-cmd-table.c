/* The pre-login command table of altpop-login (pure data and decisions). */

#include "lib.h"
#include "pop3-line.h"
#include "login-cmd-table.h"

#define KPOP_PORT_REFUSAL \
	"This is the KPOP port: you are authenticated by Kerberos, " \
	"send USER <name> and PASS."

#define PLAIN LOGIN_CMD_STATE_PLAIN
#define KPOP LOGIN_CMD_STATE_KPOP
#define SPLIT LOGIN_CMD_ARGS_SPLIT
static const struct login_command_def login_commands[] = {
	{ "CAPA", PLAIN | KPOP, SPLIT, LOGIN_CMD_CAPA, NULL },
	{ "USER", PLAIN, SPLIT, LOGIN_CMD_USER, NULL },
	{ "PASS", PLAIN, LOGIN_CMD_ARGS_REST, LOGIN_CMD_PASS, NULL },
	{ "APOP", PLAIN, SPLIT, LOGIN_CMD_APOP, NULL },
	{ "AUTH", PLAIN, LOGIN_CMD_ARGS_RAW, LOGIN_CMD_AUTH, NULL },
	{ "STLS", PLAIN, SPLIT, LOGIN_CMD_STLS, NULL },
	{ "QUIT", PLAIN, SPLIT, LOGIN_CMD_QUIT, NULL },
	{ "XCLIENT", PLAIN, SPLIT, LOGIN_CMD_XCLIENT, NULL },
	{ "UTF8", PLAIN, SPLIT, LOGIN_CMD_UTF8, NULL },

	{ "USER", KPOP, SPLIT, LOGIN_CMD_KPOP_USER, NULL },
	{ "PASS", KPOP, SPLIT, LOGIN_CMD_KPOP_PASS, NULL },
	{ "STLS", KPOP, SPLIT, LOGIN_CMD_KPOP_STLS, NULL },
	{ "QUIT", KPOP, SPLIT, LOGIN_CMD_KPOP_QUIT, NULL },
	{ "AUTH", KPOP, SPLIT, LOGIN_CMD_REFUSED, KPOP_PORT_REFUSAL },
	{ "APOP", KPOP, SPLIT, LOGIN_CMD_REFUSED, KPOP_PORT_REFUSAL },
};
#undef PLAIN
#undef KPOP
#undef SPLIT

/* The answer to a command no entry allows in the state. */
static const char *login_unknown_command_text(enum login_cmd_state state)
{
	switch (state) {
	case LOGIN_CMD_STATE_PLAIN:
		return "Unknown command.";
	case LOGIN_CMD_STATE_KPOP:
		return "Unknown command: only CAPA, STLS, USER, PASS and QUIT "
			"are allowed before login on the KPOP port.";
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
login_cmd_line_step(enum login_cmd_state state,
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
		*error_r = "Invalid characters in command line.";
		return LOGIN_CMD_STEP_BAD;
	case POP3_LINE_READ_OK:
		break;
	}
	if (!pop3_line_split(line, &name, &args, error_r))
		return LOGIN_CMD_STEP_BAD;
	cmd = login_cmd_find(name, state);
	if (cmd == NULL || cmd->args == LOGIN_CMD_ARGS_RAW) {
		/* a raw command is taken before its line is read (see
		   altpop_login_input_next_cmd()); a line that gets here with
		   its name is none of it */
		*error_r = login_unknown_command_text(state);
		return LOGIN_CMD_STEP_BAD;
	}
	if (cmd->id == LOGIN_CMD_REFUSED) {
		*error_r = cmd->refusal;
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
