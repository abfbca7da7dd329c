/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the legacy UIDL file parser of `altpop -I`
   (module/lib/uidl-import-file.c). */

#include "lib.h"
#include "istream.h"
#include "md5.h"
#include "uidl-format.h"
#include "uidl-import-file.h"
#include "fuzz-common.h"

#include <ctype.h>

static void assert_md5(const char *md5)
{
	i_assert(strlen(md5) == MD5_RESULTLEN * 2);
	for (const char *p = md5; *p != '\0'; p++)
		i_assert(i_isxdigit(*p) && !i_isupper(*p));
}

static void import_entry(uoff_t size ATTR_UNUSED, const char *header_md5,
			 const char *uidl, const char *body_md5, void *context)
{
	unsigned int *count = context;

	assert_md5(header_md5);
	if (body_md5 != NULL)
		assert_md5(body_md5);
	i_assert(uidl_is_valid(uidl, strlen(uidl)));
	(*count)++;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	struct istream *input = i_stream_create_from_data(data, size);
	unsigned int count = 0, count_r;
	const char *error = NULL;

	if (uidl_import_file_read(input, "fuzz", import_entry, &count,
				  &count_r, &error) < 0)
		i_assert(error != NULL && error[0] != '\0');
	i_assert(count == count_r);
	i_stream_unref(&input);
}
