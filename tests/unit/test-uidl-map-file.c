/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/uidl-map-file.c: reading stops at the first
   corrupt line and reports it, and the error outlives the reader's
   data stack frames (defect 5 of issue 10). */

#include "lib.h"
#include "array.h"
#include "istream.h"
#include "str.h"
#include "test-common.h"
#include "uidl-map-file.h"

static void count_entry(const char *guid ATTR_UNUSED,
			const char *uidl ATTR_UNUSED, void *context)
{
	unsigned int *count = context;

	(*count)++;
}

static int read_map(const char *text, unsigned int *count_r,
		    const char **error_r)
{
	struct istream *input =
		i_stream_create_from_data(text, strlen(text));
	int ret;

	*count_r = 0;
	ret = uidl_map_file_read(input, "map", count_entry, count_r, error_r);
	i_stream_unref(&input);
	return ret;
}

/* Overwrite what data stack frames above this one left behind. */
static void scribble_data_stack(void)
{
	T_BEGIN {
		for (unsigned int i = 0; i < 64; i++)
			memset(t_malloc_no0(1024), 'X', 1024);
	} T_END;
}

static void test_uidl_map_file_good(void)
{
	unsigned int count;
	const char *error = NULL;

	test_begin("uidl_map_file_read good");
	test_assert(read_map("", &count, &error) == 0 && count == 0);
	test_assert(read_map(UIDL_MAP_FILE_HEADER"\n"
			     "g1\tuidl-1\ng2\tuidl-2\n", &count, &error) == 0);
	test_assert(count == 2);
	test_assert(read_map("bad header\n", &count, &error) < 0);
	test_end();
}

static void test_uidl_map_file_corrupt(void)
{
	static const char *const maps[] = {
		UIDL_MAP_FILE_HEADER"\ng1\tu1\ng2 u2\ng3\tu3\ng4\tu4\n",
		UIDL_MAP_FILE_HEADER"\ng1\tu1\n\tu2\ng3\tu3\ng4\tu4\n",
		UIDL_MAP_FILE_HEADER"\ng1\tu1\ng2\tu 2\ng3\tu3\ng4\tu4\n",
	};
	unsigned int count;
	const char *error;

	test_begin("uidl_map_file_read corrupt line");
	for (unsigned int i = 0; i < N_ELEMENTS(maps); i++) {
		error = NULL;
		test_assert_idx(read_map(maps[i], &count, &error) < 0, i);
		/* nothing after the corrupt line is taken */
		test_assert_idx(count == 1, i);
		scribble_data_stack();
		/* the error names the line, and is still intact */
		test_assert_idx(error != NULL &&
				strncmp(error, "map line 3: ", 12) == 0, i);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_uidl_map_file_good,
		test_uidl_map_file_corrupt,
		NULL
	};
	return test_run(test_functions);
}
