/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/last-login-file.c: the LOGIN-DELAY state file
   round-trips, and a file that is not in the format is refused with an
   error saying what is wrong. */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "state-file-format.h"
#include "last-login-file.h"

static int parse(const char *text, time_t *last_r, const char **error_r)
{
	return last_login_file_parse((const unsigned char *)text,
				     strlen(text), last_r, error_r);
}

static void test_last_login_file_round_trip(void)
{
	static const time_t stamps[] = {
		1, 1700000000, 2147483648LL, STATE_FILE_TIME_MAX
	};
	string_t *str = t_str_new(64);
	const char *error;
	time_t last;

	test_begin("last_login_file round trip");
	for (unsigned int i = 0; i < N_ELEMENTS(stamps); i++) {
		str_truncate(str, 0);
		last_login_file_write(str, stamps[i]);
		last = -1;
		test_assert_idx(last_login_file_parse(str_data(str),
				str_len(str), &last, &error) == 0, i);
		test_assert_cmp_idx(last, ==, stamps[i], i);
	}
	str_truncate(str, 0);
	last_login_file_write(str, 1700000000);
	test_assert_strcmp(str_c(str), "altpop-last-login 1\n1700000000\n");
	/* no file yet: no login */
	last = -1;
	test_assert(parse("", &last, &error) == 0 && last == 0);
	/* the last line's LF is not required */
	test_assert(parse(LAST_LOGIN_FILE_HEADER"\n42", &last, &error) == 0 &&
		    last == 42);
	test_end();
}

static void test_last_login_file_malformed(void)
{
	static const struct {
		const char *text, *error_prefix;
	} tests[] = {
		{ "altpop-last-login 2\n1700000000\n", "not an altpop-last-login" },
		{ "altpop-retrieved 1\n", "not an altpop-last-login" },
		{ "\n", "not an altpop-last-login" },
		{ LAST_LOGIN_FILE_HEADER, "line 2: the time is missing" },
		{ LAST_LOGIN_FILE_HEADER"\n", "line 2: the time is missing" },
		{ LAST_LOGIN_FILE_HEADER"\n\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n-5\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n+5\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n 5\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n5x\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n0x10\n", "line 2: not a time" },
		/* one second after the latest time */
		{ LAST_LOGIN_FILE_HEADER"\n253402300800\n", "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n18446744073709551616\n",
		  "line 2: not a time" },
		{ LAST_LOGIN_FILE_HEADER"\n000000000000000000000000000000001\n",
		  "line 2: too long" },
		{ LAST_LOGIN_FILE_HEADER"\n5\n6\n", "line 3: unexpected data" },
		{ LAST_LOGIN_FILE_HEADER"\n5\n\n", "line 3: unexpected data" },
	};
	const char *error;
	time_t last;

	test_begin("last_login_file malformed");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		last = -1;
		test_assert_idx(parse(tests[i].text, &last, &error) < 0, i);
		test_assert_idx(last == 0, i);
		test_assert_idx(error != NULL &&
				altpop_str_begins(error, tests[i].error_prefix), i);
	}
	/* a NUL byte is refused, not read as the end of the file */
	static const unsigned char nul[] = LAST_LOGIN_FILE_HEADER"\n5\0\n";
	error = NULL;
	test_assert(last_login_file_parse(nul, sizeof(nul) - 1, &last,
					  &error) < 0);
	test_assert(error != NULL && strstr(error, "NUL") != NULL);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_last_login_file_round_trip,
		test_last_login_file_malformed,
		NULL
	};
	return test_run(test_functions);
}
