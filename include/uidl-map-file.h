/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_MAP_FILE_H
#define UIDL_MAP_FILE_H

/* The UIDL map file format: a header line, then one line per message:
     "altpop-uidl-map 1"
     <guid> TAB <uidl>      (tab-escaped)
   Pure: reading from and writing to streams the caller opened. */

#define UIDL_MAP_FILE_HEADER "altpop-uidl-map 1"
/* longest line accepted in a map file */
#define UIDL_MAP_FILE_MAX_LINE 1024

typedef void uidl_map_file_callback_t(const char *guid, const char *uidl,
				      void *context);

/* Read a map file: calls callback for every entry (the strings live only
   for the call). A missing or empty file is an empty map. Stops at the
   first corrupt line: returns -1 with *error_r naming path and line
   (allocated from the caller's data stack frame); 0 on success. */
int uidl_map_file_read(struct istream *input, const char *path,
		       uidl_map_file_callback_t *callback, void *context,
		       const char **error_r);

/* Append one entry line (with its LF). */
void uidl_map_file_line_append(string_t *dest, const char *guid,
			       const char *uidl);

#endif
