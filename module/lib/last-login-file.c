/* SPDX-License-Identifier: LGPL-2.1-only */
/* The LOGIN-DELAY state file format (last-login-file.h). */

#include "lib.h"
#include "str.h"
#include "state-file-format.h"
#include "last-login-file.h"

static int
last_login_file_parse_lines(const unsigned char *data, size_t size,
			    time_t *last_r, const char **error_r)
{
	struct state_file_span line;
	size_t pos = 0;

	if (state_file_next_line(data, size, &pos, LAST_LOGIN_FILE_MAX_LINE,
				 &line) != STATE_FILE_LINE_OK ||
	    !state_file_span_equals(&line, LAST_LOGIN_FILE_HEADER)) {
		*error_r = "not an altpop-last-login file (bad first line)";
		return -1;
	}
	switch (state_file_next_line(data, size, &pos,
				     LAST_LOGIN_FILE_MAX_LINE, &line)) {
	case STATE_FILE_LINE_OK:
		break;
	case STATE_FILE_LINE_END:
		*error_r = "line 2: the time is missing";
		return -1;
	case STATE_FILE_LINE_TOO_LONG:
		*error_r = "line 2: too long for a time";
		return -1;
	}
	if (state_file_time_parse(&line, last_r) < 0) {
		*error_r = "line 2: not a time (expected decimal seconds "
			"since 1970)";
		return -1;
	}
	if (pos < size) {
		*error_r = "line 3: unexpected data after the time";
		return -1;
	}
	return 0;
}

int last_login_file_parse(const unsigned char *data, size_t size,
			  time_t *last_r, const char **error_r)
{
	*last_r = 0;
	if (size == 0)
		return 0;
	if (memchr(data, '\0', size) != NULL) {
		*error_r = "not an altpop-last-login file (NUL byte)";
		return -1;
	}
	if (last_login_file_parse_lines(data, size, last_r, error_r) < 0) {
		*last_r = 0;
		return -1;
	}
	return 0;
}

void last_login_file_write(string_t *dest, time_t last)
{
	i_assert(last >= 0 && last <= STATE_FILE_TIME_MAX);
	str_printfa(dest, LAST_LOGIN_FILE_HEADER"\n%lld\n", (long long)last);
}
