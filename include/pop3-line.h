/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_LINE_H
#define POP3_LINE_H

/* POP3 command line pieces used by both altpop-login and altpop. Error
   texts are in the session's language (pop3-lang.h). */

#include "pop3-lang.h"

/* Split a command line into an upper-cased command name and its arguments
   (leading spaces skipped). The name is allocated from the data stack.
   Returns FALSE (with *error_r set) when the name is empty, too long or has
   characters other than letters/digits/'*': such a line is a bad command. */
bool pop3_line_split(const char *line, enum pop3_lang lang,
		     const char **name_r,
		     const char **args_r, const char **error_r);

/* Parse one decimal number from *args. It must be followed by a space (more
   arguments follow when want_more is TRUE) or by the end of the line.
   On success *args points to the next argument. Numbers above max are
   refused. Returns 0 on success, -1 with a client-printable *error_r. */
int pop3_args_parse_number(const char **args, uoff_t max, bool want_more,
			   enum pop3_lang lang, uoff_t *value_r, const char **error_r);

/* TRUE if data has a NUL byte or a bare CR in it (a line that cannot be a
   valid POP3 command). */
bool pop3_line_has_bad_bytes(const unsigned char *data, size_t size);

#endif
