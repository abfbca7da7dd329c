/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the EXPIRE state file parser (module/lib/retrieved-file.c).
   A file it refuses has an error and leaves no entries; the entries it
   accepts are sorted, unique and in range; written back they read the
   same, and adding an entry again changes nothing. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "state-file-format.h"
#include "retrieved-file.h"
#include "fuzz-common.h"

static void check_entries(const ARRAY_TYPE(retrieved_entry) *entries)
{
	const struct retrieved_entry *e;
	unsigned int i, count;

	e = array_get(entries, &count);
	for (i = 0; i < count; i++) {
		i_assert(e[i].uid_validity != 0 && e[i].uid != 0);
		i_assert(e[i].first >= 0 && e[i].first <= STATE_FILE_TIME_MAX);
		if (i > 0) {
			i_assert(e[i - 1].uid_validity < e[i].uid_validity ||
				 (e[i - 1].uid_validity == e[i].uid_validity &&
				  e[i - 1].uid < e[i].uid));
		}
		i_assert(retrieved_entries_find(entries, e[i].uid_validity,
						e[i].uid) == &e[i]);
	}
}

void fuzz_one(const unsigned char *data, size_t size)
{
	ARRAY_TYPE(retrieved_entry) entries, entries2;
	const struct retrieved_entry *e, *e2;
	const char *error = NULL;
	string_t *str, *str2;

	t_array_init(&entries, 16);
	if (retrieved_file_parse(data, size, &entries, &error) < 0) {
		i_assert(error != NULL && error[0] != '\0');
		i_assert(array_count(&entries) == 0);
		return;
	}
	check_entries(&entries);

	str = t_str_new(256);
	retrieved_file_write(str, &entries);
	t_array_init(&entries2, 16);
	i_assert(retrieved_file_parse(str_data(str), str_len(str), &entries2,
				      &error) == 0);
	i_assert(array_count(&entries2) == array_count(&entries));
	array_foreach(&entries2, e2) {
		e = array_idx(&entries, array_foreach_idx(&entries2, e2));
		i_assert(e->uid_validity == e2->uid_validity &&
			 e->uid == e2->uid && e->first == e2->first);
		/* a later retrieval keeps the first one */
		i_assert(!retrieved_entries_add(&entries, e->uid_validity,
						e->uid, e->first + 1));
	}
	str2 = t_str_new(256);
	retrieved_file_write(str2, &entries2);
	i_assert(str_equals(str, str2));
}
