/* SPDX-License-Identifier: LGPL-2.1-only */
/* The UIDL map file format (see uidl-map-file.h). */

#include "lib.h"
#include "istream.h"
#include "str.h"
#include "strescape.h"
#include "uidl-format.h"
#include "uidl-map-file.h"

int uidl_map_file_read(struct istream *input, const char *path,
		       uidl_map_file_callback_t *callback, void *context,
		       const char **error_r)
{
	const char *line;
	unsigned int linenum = 1;
	bool corrupt = FALSE;

	if ((line = i_stream_read_next_line(input)) == NULL) {
		if (input->stream_errno == ENOENT)
			return 0;
		if (input->stream_errno != 0) {
			*error_r = t_strdup_printf("read(%s) failed: %s",
				path, i_stream_get_error(input));
			return -1;
		}
		/* empty file */
		return 0;
	}
	if (strcmp(line, UIDL_MAP_FILE_HEADER) != 0) {
		*error_r = t_strdup_printf("%s: not an altpop UIDL map "
					   "(bad first line)", path);
		return -1;
	}
	while (!corrupt && (line = i_stream_read_next_line(input)) != NULL) {
		linenum++;
		T_BEGIN {
			const char *const *args = t_strsplit_tabescaped(line);

			if (str_array_length(args) != 2 ||
			    args[0][0] == '\0' ||
			    !uidl_is_valid(args[1], strlen(args[1])))
				corrupt = TRUE;
			else
				callback(args[0], args[1], context);
		} T_END;
	}
	if (corrupt) {
		/* a map that is wrong in one place may be wrong in others:
		   use none of it rather than guess */
		*error_r = t_strdup_printf("%s line %u: corrupted "
			"(expected <guid> TAB <uidl>); the map is not used "
			"until the line is fixed or removed", path, linenum);
		return -1;
	}
	if (input->stream_errno != 0) {
		*error_r = t_strdup_printf("read(%s) failed: %s", path,
					   i_stream_get_error(input));
		return -1;
	}
	return 0;
}

void uidl_map_file_line_append(string_t *dest, const char *guid,
			       const char *uidl)
{
	str_append_tabescaped(dest, guid);
	str_append_c(dest, '\t');
	str_append_tabescaped(dest, uidl);
	str_append_c(dest, '\n');
}
