/* SPDX-License-Identifier: LGPL-2.1-only */
/* POP3 command line parsing shared by both binaries. */

#include "lib.h"
#include "str.h"
#include "strnum.h"
#include "altpop-limits.h"
#include "pop3-lang.h"
#include "pop3-line.h"

#include <ctype.h>

/* Command names are 3..4 letters (RFC 1939); SDPS adds "*ENV". Allow a
   little more so we can give a clean "unknown command" to odd clients. */
#define POP3_LINE_MAX_NAME_LEN 16

static bool pop3_name_char_valid(char c)
{
	return i_isalnum(c) || c == '*' || c == '-' || c == '_';
}

bool pop3_line_split(const char *line, enum pop3_lang lang,
		     const char **name_r,
		     const char **args_r, const char **error_r)
{
	const char *p = line;
	size_t len;

	while (*p != '\0' && *p != ' ')
		p++;
	len = p - line;
	if (len == 0) {
		*error_r = pop3_lang_text(lang, POP3_MSG_EMPTY_COMMAND);
		return FALSE;
	}
	if (len > POP3_LINE_MAX_NAME_LEN) {
		*error_r = pop3_lang_text(lang,
					  POP3_MSG_COMMAND_NAME_TOO_LONG);
		return FALSE;
	}
	char *name = t_strdup_noconst(t_strndup(line, len));
	for (char *n = name; *n != '\0'; n++) {
		if (!pop3_name_char_valid(*n)) {
			*error_r = pop3_lang_text(lang,
				POP3_MSG_INVALID_COMMAND_NAME);
			return FALSE;
		}
		*n = i_toupper(*n);
	}
	while (*p == ' ')
		p++;
	*name_r = name;
	*args_r = p;
	return TRUE;
}

int pop3_args_parse_number(const char **args, uoff_t max, bool want_more,
			   enum pop3_lang lang, uoff_t *value_r, const char **error_r)
{
	const char *p = *args, *end;
	uoff_t value;

	if (*p < '0' || *p > '9') {
		*error_r = *p == '\0' ?
			pop3_lang_text(lang, POP3_MSG_MISSING_ARGUMENT) :
			pop3_lang_printf(lang, POP3_MSG_INVALID_NUMBER, p);
		return -1;
	}
	if (str_parse_uoff(p, &value, &end) < 0 || value > max) {
		*error_r = pop3_lang_printf(lang, POP3_MSG_NUMBER_TOO_LARGE, p);
		return -1;
	}
	if (want_more) {
		if (*end != ' ') {
			*error_r = *end == '\0' ?
				pop3_lang_text(lang, POP3_MSG_MISSING_ARGUMENT) :
				pop3_lang_printf(lang,
					POP3_MSG_NOISE_AFTER_NUMBER, end);
			return -1;
		}
		while (*end == ' ')
			end++;
	} else {
		/* tolerate trailing spaces, refuse anything else */
		const char *q = end;
		while (*q == ' ')
			q++;
		if (*q != '\0') {
			*error_r = pop3_lang_printf(lang,
				POP3_MSG_NOISE_AFTER_NUMBER, end);
			return -1;
		}
		end = q;
	}
	*value_r = value;
	*args = end;
	return 0;
}

bool pop3_line_has_bad_bytes(const unsigned char *data, size_t size)
{
	for (size_t i = 0; i < size; i++) {
		if (data[i] == '\0')
			return TRUE;
		if (data[i] == '\r' && (i + 1 == size || data[i+1] != '\n'))
			return TRUE;
	}
	return FALSE;
}
