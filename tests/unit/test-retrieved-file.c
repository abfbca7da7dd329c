/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/retrieved-file.c: the EXPIRE state file
   round-trips in (uidvalidity, uid) order, a first retrieval stays the
   first, and a file that is not in the format is refused with an error
   naming the line. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "state-file-format.h"
#include "retrieved-file.h"

static int parse(const char *text, ARRAY_TYPE(retrieved_entry) *entries,
		 const char **error_r)
{
	array_clear(entries);
	return retrieved_file_parse((const unsigned char *)text, strlen(text),
				    entries, error_r);
}

/* Overwrite what data stack frames above this one left behind. */
static void scribble_data_stack(void)
{
	T_BEGIN {
		for (unsigned int i = 0; i < 64; i++)
			memset(t_malloc_no0(1024), 'X', 1024);
	} T_END;
}

static void test_retrieved_file_round_trip(void)
{
	ARRAY_TYPE(retrieved_entry) entries, entries2;
	const struct retrieved_entry *e, *e2;
	string_t *str = t_str_new(256);
	const char *error;

	test_begin("retrieved_file round trip");
	t_array_init(&entries, 8);
	t_array_init(&entries2, 8);
	/* added out of order: kept sorted */
	test_assert(retrieved_entries_add(&entries, 7, 3, 300));
	test_assert(retrieved_entries_add(&entries, 7, 1, 100));
	test_assert(retrieved_entries_add(&entries, 4294967295U, 4294967295U,
					  STATE_FILE_TIME_MAX));
	test_assert(retrieved_entries_add(&entries, 5, 10, 0));
	test_assert(retrieved_entries_add(&entries, 7, 2, 200));
	/* a later retrieval does not replace the first one */
	test_assert(!retrieved_entries_add(&entries, 7, 1, 999));
	test_assert(array_count(&entries) == 5);

	retrieved_file_write(str, &entries);
	test_assert_strcmp(str_c(str), RETRIEVED_FILE_HEADER"\n"
			   "5/10\t0\n7/1\t100\n7/2\t200\n7/3\t300\n"
			   "4294967295/4294967295\t253402300799\n");
	test_assert(retrieved_file_parse(str_data(str), str_len(str),
					 &entries2, &error) == 0);
	test_assert(array_count(&entries2) == array_count(&entries));
	array_foreach(&entries2, e2) {
		e = array_idx(&entries, array_foreach_idx(&entries2, e2));
		test_assert(e->uid_validity == e2->uid_validity &&
			    e->uid == e2->uid && e->first == e2->first);
	}

	e = retrieved_entries_find(&entries2, 7, 2);
	test_assert(e != NULL && e->first == 200);
	test_assert(retrieved_entries_find(&entries2, 7, 4) == NULL);
	test_assert(retrieved_entries_find(&entries2, 8, 2) == NULL);

	/* no file yet, a header alone: nothing recorded */
	test_assert(parse("", &entries2, &error) == 0 &&
		    array_count(&entries2) == 0);
	str_truncate(str, 0);
	array_clear(&entries);
	retrieved_file_write(str, &entries);
	test_assert_strcmp(str_c(str), RETRIEVED_FILE_HEADER"\n");
	test_assert(parse(str_c(str), &entries2, &error) == 0 &&
		    array_count(&entries2) == 0);
	test_end();
}

static void test_retrieved_file_lenient(void)
{
	ARRAY_TYPE(retrieved_entry) entries;
	const struct retrieved_entry *e;
	const char *error;

	test_begin("retrieved_file edited by hand");
	t_array_init(&entries, 8);
	/* empty lines, no final LF, any order */
	test_assert(parse(RETRIEVED_FILE_HEADER"\n\n9/2\t20\n\n1/5\t10",
			  &entries, &error) == 0);
	test_assert(array_count(&entries) == 2);
	e = array_idx(&entries, 0);
	test_assert(e->uid_validity == 1 && e->uid == 5 && e->first == 10);
	test_assert(retrieved_entries_find(&entries, 9, 2) != NULL);
	test_end();
}

static void test_retrieved_file_malformed(void)
{
	static const struct {
		const char *text, *error_prefix;
	} tests[] = {
		{ "altpop-retrieved 2\n1/1\t1\n", "line 1: not an altpop-retrieved" },
		{ "altpop-last-login 1\n1\n", "line 1: not an altpop-retrieved" },
		{ "1/1\t1\n", "line 1: not an altpop-retrieved" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t1\n1/2 2\n1/3\t3\n",
		  "line 3: expected <uidvalidity>/<uid> TAB <time>" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t1\t1\n",
		  "line 2: expected <uidvalidity>/<uid> TAB <time>" },
		{ RETRIEVED_FILE_HEADER"\n1\t1\n",
		  "line 2: expected <uidvalidity>/<uid> TAB <time>" },
		{ RETRIEVED_FILE_HEADER"\n1\t1/1\n",
		  "line 2: expected <uidvalidity>/<uid> TAB <time>" },
		{ RETRIEVED_FILE_HEADER"\n/1\t1\n", "line 2: the UIDVALIDITY" },
		{ RETRIEVED_FILE_HEADER"\n0/1\t1\n", "line 2: the UIDVALIDITY" },
		{ RETRIEVED_FILE_HEADER"\n4294967296/1\t1\n",
		  "line 2: the UIDVALIDITY" },
		{ RETRIEVED_FILE_HEADER"\n-1/1\t1\n", "line 2: the UIDVALIDITY" },
		{ RETRIEVED_FILE_HEADER"\n1/\t1\n", "line 2: the UID " },
		{ RETRIEVED_FILE_HEADER"\n1/0\t1\n", "line 2: the UID " },
		{ RETRIEVED_FILE_HEADER"\n1/1/1\t1\n", "line 2: the UID " },
		{ RETRIEVED_FILE_HEADER"\n1/1\t\n", "line 2: the time" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t-1\n", "line 2: the time" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t1 \n", "line 2: the time" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t253402300800\n", "line 2: the time" },
		{ RETRIEVED_FILE_HEADER"\n1/1\t1\n1/2\t"
		  "0000000000000000000000000000000000000000000000000000000000002\n",
		  "line 3: the line is too long" },
		{ RETRIEVED_FILE_HEADER"\n1/2\t1\n1/1\t1\n1/2\t5\n",
		  "the same message is listed twice" },
	};
	ARRAY_TYPE(retrieved_entry) entries;
	const char *error;

	test_begin("retrieved_file malformed");
	t_array_init(&entries, 8);
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		error = NULL;
		test_assert_idx(parse(tests[i].text, &entries, &error) < 0, i);
		/* nothing of a corrupt file is used */
		test_assert_idx(array_count(&entries) == 0, i);
		scribble_data_stack();
		test_assert_idx(error != NULL &&
			altpop_str_begins(error, tests[i].error_prefix), i);
	}
	static const unsigned char nul[] = RETRIEVED_FILE_HEADER"\n1/1\t1\0\n";
	error = NULL;
	test_assert(retrieved_file_parse(nul, sizeof(nul) - 1, &entries,
					 &error) < 0);
	test_assert(error != NULL && strstr(error, "NUL") != NULL);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_retrieved_file_round_trip,
		test_retrieved_file_lenient,
		test_retrieved_file_malformed,
		NULL
	};
	return test_run(test_functions);
}
