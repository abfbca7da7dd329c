/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the UIDL map file parser (module/lib/uidl-map-file.c).
   Every entry it accepts has a GUID and a valid UIDL; after the first
   corrupt line nothing more is taken; the accepted entries written back
   read the same. */

#include "lib.h"
#include "array.h"
#include "istream.h"
#include "str.h"
#include "uidl-format.h"
#include "uidl-map-file.h"
#include "fuzz-common.h"

struct map_entry {
	const char *guid, *uidl;
};
ARRAY_DEFINE_TYPE(map_entry, struct map_entry);

/* the entries outlive the reader's per-line data stack frames */
static pool_t entry_pool;

static void map_entry_add(const char *guid, const char *uidl, void *context)
{
	ARRAY_TYPE(map_entry) *entries = context;
	struct map_entry *e = array_append_space(entries);

	i_assert(guid[0] != '\0');
	i_assert(uidl_is_valid(uidl, strlen(uidl)));
	e->guid = p_strdup(entry_pool, guid);
	e->uidl = p_strdup(entry_pool, uidl);
}

static int map_read(const unsigned char *data, size_t size,
		    ARRAY_TYPE(map_entry) *entries, const char **error_r)
{
	struct istream *input = i_stream_create_from_data(data, size);
	int ret;

	ret = uidl_map_file_read(input, "fuzz", map_entry_add, entries,
				 error_r);
	i_stream_unref(&input);
	return ret;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	ARRAY_TYPE(map_entry) entries, entries2;
	const struct map_entry *e, *e2;
	const char *error = NULL;
	string_t *str;
	int ret;

	entry_pool = pool_alloconly_create("fuzz uidl map", 1024);
	p_array_init(&entries, entry_pool, 8);
	ret = map_read(data, size, &entries, &error);
	if (ret < 0)
		i_assert(error != NULL && error[0] != '\0');

	str = t_str_new(256);
	str_append(str, UIDL_MAP_FILE_HEADER"\n");
	array_foreach(&entries, e)
		uidl_map_file_line_append(str, e->guid, e->uidl);
	p_array_init(&entries2, entry_pool, 8);
	i_assert(map_read(str_data(str), str_len(str), &entries2,
			  &error) == 0);
	i_assert(array_count(&entries2) == array_count(&entries));
	array_foreach(&entries2, e2) {
		e = array_idx(&entries, array_foreach_idx(&entries2, e2));
		i_assert(strcmp(e->guid, e2->guid) == 0);
		i_assert(strcmp(e->uidl, e2->uidl) == 0);
	}
	pool_unref(&entry_pool);
}
