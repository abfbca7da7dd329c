/* SPDX-License-Identifier: LGPL-2.1-only */
/* Legacy UIDL files (see uidl-import-file.h). */

#include "lib.h"
#include "istream.h"
#include "md5.h"
#include "strnum.h"
#include "uidl-format.h"
#include "uidl-import-file.h"

#include <ctype.h>

static bool uidl_import_file_is_md5(const char *str)
{
	if (strlen(str) != MD5_RESULTLEN * 2)
		return FALSE;
	for (; *str != '\0'; str++) {
		if (!i_isxdigit(*str))
			return FALSE;
	}
	return TRUE;
}

int uidl_import_file_parse_line(const char *line, uoff_t *size_r,
				const char **header_md5_r,
				const char **uidl_r, const char **body_md5_r)
{
	const char *const *args;
	unsigned int count;

	if (line[0] == '#' || line[0] == '\0')
		return 0;
	args = t_strsplit_spaces(line, " \t");
	count = str_array_length(args);
	if ((count != 3 && count != 4) ||
	    str_to_uoff(args[0], size_r) < 0 ||
	    !uidl_import_file_is_md5(args[1]) ||
	    !uidl_is_valid(args[2], strlen(args[2])) ||
	    (count == 4 && !uidl_import_file_is_md5(args[3])))
		return -1;
	*header_md5_r = t_str_lcase(args[1]);
	*uidl_r = args[2];
	*body_md5_r = count == 4 ? t_str_lcase(args[3]) : NULL;
	return 1;
}

int uidl_import_file_read(struct istream *input, const char *path,
			  uidl_import_file_callback_t *callback, void *context,
			  unsigned int *count_r, const char **error_r)
{
	const char *line;
	unsigned int linenum = 0;
	int ret = 0;

	*count_r = 0;
	while (ret >= 0 && (line = i_stream_read_next_line(input)) != NULL) {
		linenum++;
		T_BEGIN {
			const char *md5, *uidl, *body_md5;
			uoff_t size;

			ret = uidl_import_file_parse_line(line, &size, &md5,
							  &uidl, &body_md5);
			if (ret > 0) {
				callback(size, md5, uidl, body_md5, context);
				(*count_r)++;
			}
		} T_END;
	}
	if (ret < 0) {
		*error_r = t_strdup_printf("%s line %u: expected "
			"'<octets> <header-md5> <uidl> [<body-md5>]'",
			path, linenum);
		return -1;
	}
	if (input->stream_errno != 0) {
		*error_r = t_strdup_printf("read(%s) failed: %s", path,
					   i_stream_get_error(input));
		return -1;
	}
	return 0;
}
