/* Fuzz target: the legacy UIDL file parser of `altpop -I`
   (module/lib/uidl-import-file.c). */

#include "lib.h"
#include "istream.h"
#include "md5.h"
#include "uidl-format.h"
#include "uidl-import-file.h"
#include "fuzz-common.h"

#include <ctype.h>

static void import_entry(uoff_t size ATTR_UNUSED, const char *header_md5,
			 const char *uidl, void *context)
{
	unsigned int *count = context;

	i_assert(strlen(header_md5) == MD5_RESULTLEN * 2);
	for (const char *p = header_md5; *p != '\0'; p++)
		i_assert(!i_isupper(*p));
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
