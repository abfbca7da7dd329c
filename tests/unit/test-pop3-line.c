/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/pop3-line.c */

#include "lib.h"
#include "test-common.h"
#include "istream.h"
#include "pop3-line.h"
#include "pop3-line-reader.h"

static void test_pop3_line_split(void)
{
	static const struct {
		const char *line, *name, *args;
	} good[] = {
		{ "stat", "STAT", "" },
		{ "RETR 1", "RETR", "1" },
		{ "top   2 10", "TOP", "2 10" },
		{ "*env 3", "*ENV", "3" },
		{ "uidl ", "UIDL", "" },
	};
	static const char *const bad[] = {
		"", " STAT", "ST\tAT", "VERYVERYLONGCOMMANDNAME x", "R\xc3\xa4TR 1",
	};
	const char *name, *args, *error;

	test_begin("pop3_line_split");
	for (unsigned int i = 0; i < N_ELEMENTS(good); i++) {
		test_assert_idx(pop3_line_split(good[i].line, POP3_LANG_EN, &name, &args,
						&error), i);
		test_assert_strcmp_idx(name, good[i].name, i);
		test_assert_strcmp_idx(args, good[i].args, i);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert_idx(!pop3_line_split(bad[i], POP3_LANG_EN,
						&name, &args, &error), i);
		test_assert_idx(error != NULL && error[0] != '\0', i);
	}
	test_end();
}

static void test_pop3_args_parse_number(void)
{
	const char *args, *error;
	uoff_t value;

	test_begin("pop3_args_parse_number");
	args = "12";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) == 0);
	test_assert(value == 12 && *args == '\0');

	args = "7 25";
	test_assert(pop3_args_parse_number(&args, 100, TRUE, POP3_LANG_EN,
					   &value, &error) == 0);
	test_assert(value == 7);
	test_assert_strcmp(args, "25");

	/* trailing spaces are tolerated, noise is not */
	args = "3  ";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) == 0);
	args = "3x";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) < 0);
	args = "3 4";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) < 0);

	/* missing, negative, too large, overflowing */
	args = "";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) < 0);
	args = "-1";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) < 0);
	args = "101";
	test_assert(pop3_args_parse_number(&args, 100, FALSE, POP3_LANG_EN,
					   &value, &error) < 0);
	args = "99999999999999999999999999";
	test_assert(pop3_args_parse_number(&args, UOFF_T_MAX, FALSE, POP3_LANG_EN, &value,
					   &error) < 0);
	/* a second number is required */
	args = "5";
	test_assert(pop3_args_parse_number(&args, 100, TRUE, POP3_LANG_EN,
					   &value, &error) < 0);
	test_end();
}

static void test_pop3_line_has_bad_bytes(void)
{
	test_begin("pop3_line_has_bad_bytes");
	test_assert(!pop3_line_has_bad_bytes((const void *)"STAT", 4));
	test_assert(pop3_line_has_bad_bytes((const void *)"ST\0T", 4));
	test_assert(pop3_line_has_bad_bytes((const void *)"ST\rT", 4));
	test_assert(pop3_line_has_bad_bytes((const void *)"STAT\r", 5));
	test_assert(!pop3_line_has_bad_bytes((const void *)"", 0));
	test_end();
}

static void test_pop3_line_read(void)
{
	static const unsigned char data[] =
		"STAT\r\nUSER ali\0ce\r\nUSER bob\rx\r\nNOOP\nLIST\r\rx\nRET";
	struct istream *input;
	const char *line;

	test_begin("pop3_line_read");
	input = test_istream_create_data(data, sizeof(data) - 1);
	test_assert(i_stream_read(input) > 0);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_OK &&
		    strcmp(line, "STAT") == 0);
	/* the NUL line is consumed whole, never cut short */
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_BAD_BYTES &&
		    line == NULL);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_BAD_BYTES);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_OK &&
		    strcmp(line, "NOOP") == 0);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_BAD_BYTES);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_MORE);
	i_stream_unref(&input);

	/* a buffer full of one line without LF is too long */
	input = test_istream_create("USER aaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
	test_istream_set_max_buffer_size(input, 16);
	test_assert(i_stream_read(input) == 16);
	test_assert(pop3_line_read(input, &line) == POP3_LINE_READ_TOO_LONG);
	test_assert(i_stream_get_data_size(input) == 16);
	i_stream_unref(&input);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_pop3_line_split,
		test_pop3_args_parse_number,
		test_pop3_line_has_bad_bytes,
		test_pop3_line_read,
		NULL
	};
	return test_run(test_functions);
}
