/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the LOGIN-DELAY state file parser
   (module/lib/last-login-file.c). A file it refuses has an error and no
   time; a time it accepts is in range and, written back, reads the same
   and is written byte for byte the same. */

#include "lib.h"
#include "str.h"
#include "state-file-format.h"
#include "last-login-file.h"
#include "fuzz-common.h"

void fuzz_one(const unsigned char *data, size_t size)
{
	const char *error = NULL;
	string_t *str, *str2;
	time_t last, last2;

	if (last_login_file_parse(data, size, &last, &error) < 0) {
		i_assert(error != NULL && error[0] != '\0');
		i_assert(last == 0);
		return;
	}
	i_assert(last >= 0 && last <= STATE_FILE_TIME_MAX);
	if (size == 0) {
		i_assert(last == 0);
		return;
	}
	str = t_str_new(64);
	last_login_file_write(str, last);
	i_assert(last_login_file_parse(str_data(str), str_len(str), &last2,
				       &error) == 0);
	i_assert(last2 == last);
	str2 = t_str_new(64);
	last_login_file_write(str2, last2);
	i_assert(str_equals(str, str2));
}
