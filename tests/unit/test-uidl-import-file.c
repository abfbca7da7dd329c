/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/uidl-import-file.c: the legacy UIDL file of
   `altpop -I`, with and without the optional body MD5. */

#include "lib.h"
#include "test-common.h"
#include "uidl-import-file.h"

#define MD5_A "0123456789abcdef0123456789ABCDEF"
#define MD5_B "fedcba9876543210fedcba9876543210"

static void test_uidl_import_file_good(void)
{
	const char *md5, *uidl, *body;
	uoff_t size;

	test_begin("uidl_import_file_parse_line good");
	test_assert(uidl_import_file_parse_line("# comment", &size, &md5,
						&uidl, &body) == 0);
	test_assert(uidl_import_file_parse_line("", &size, &md5,
						&uidl, &body) == 0);
	test_assert(uidl_import_file_parse_line("12 "MD5_A" UID1-17", &size,
						&md5, &uidl, &body) == 1);
	test_assert(size == 12);
	test_assert_strcmp(md5, "0123456789abcdef0123456789abcdef");
	test_assert_strcmp(uidl, "UID1-17");
	test_assert(body == NULL);
	test_assert(uidl_import_file_parse_line("7\t"MD5_B"\t17.2\t"MD5_A,
						&size, &md5, &uidl,
						&body) == 1);
	test_assert(size == 7);
	test_assert_strcmp(uidl, "17.2");
	test_assert_strcmp(body, "0123456789abcdef0123456789abcdef");
	test_end();
}

static void test_uidl_import_file_bad(void)
{
	static const char *const lines[] = {
		"12 "MD5_A,
		"x "MD5_A" u",
		"12 nothex u",
		/* right length, not hex */
		"12 0123456789abcdef0123456789abcdeg u",
		"12 "MD5_A" u 0123",
		"12 "MD5_A" u "MD5_B" extra",
		"12 "MD5_A" u\x01v",
	};
	const char *md5, *uidl, *body;
	uoff_t size;

	test_begin("uidl_import_file_parse_line bad");
	for (unsigned int i = 0; i < N_ELEMENTS(lines); i++) {
		test_assert_idx(uidl_import_file_parse_line(lines[i], &size,
			&md5, &uidl, &body) == -1, i);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_uidl_import_file_good,
		test_uidl_import_file_bad,
		NULL
	};
	return test_run(test_functions);
}
