/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the POP3 command line splitter and argument parser
   (module/lib/pop3-line.c). */

#include "lib.h"
#include "pop3-line.h"
#include "fuzz-common.h"

#include <ctype.h>

void fuzz_one(const unsigned char *data, size_t size)
{
	const char *line, *name, *args, *error;
	uoff_t value;

	(void)pop3_line_has_bad_bytes(data, size);
	line = fuzz_str(data, size);
	if (!pop3_line_split(line, POP3_LANG_EN, &name, &args, &error)) {
		i_assert(error != NULL && error[0] != '\0');
		return;
	}
	/* the name is non-empty, upper-case and comes from the line */
	i_assert(name[0] != '\0');
	for (const char *p = name; *p != '\0'; p++)
		i_assert(!i_islower(*p));
	i_assert(args >= line && args <= line + strlen(line));
	/* numbers as RETR/TOP/LIST/DELE parse them */
	for (unsigned int i = 0; i < 3 && args[0] != '\0'; i++) {
		const char *prev = args;
		uoff_t max = i == 0 ? 1000 : UOFF_T_MAX;

		if (pop3_args_parse_number(&args, max, i < 2, POP3_LANG_EN, &value,
					   &error) < 0) {
			i_assert(error != NULL);
			break;
		}
		i_assert(value <= max);
		i_assert(args > prev);
	}
}
