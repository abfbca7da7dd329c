/* SPDX-License-Identifier: LGPL-2.1-only */
/* What the pre-login command tables share (pure decisions). */

#include "lib.h"
#include "pop3-line.h"
#include "login-cmd-table.h"

enum login_cmd_step
login_cmd_line_step(enum pop3_lang lang,
		    enum pop3_line_read_result read_result, const char *line,
		    const char **name_r, const char **args_r,
		    const char **error_r)
{
	*name_r = NULL;
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
	if (!pop3_line_split(line, lang, name_r, args_r, error_r))
		return LOGIN_CMD_STEP_BAD;
	return LOGIN_CMD_STEP_COMMAND;
}

const char *login_cmd_args_rest(const char *line, const char *name)
{
	const char *args = line + strlen(name);

	if (*args == ' ')
		args++;
	return args;
}

bool login_cmd_count_bad(unsigned int *bad_counter, unsigned int max_bad)
{
	return ++*bad_counter >= max_bad;
}
