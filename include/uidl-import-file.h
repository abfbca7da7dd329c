/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_IMPORT_FILE_H
#define UIDL_IMPORT_FILE_H

/* A legacy server's UIDL list, as `altpop -I` imports it: one line per
   message of the old server,
     <octets> <header-md5> <uidl> [<body-md5>]
   separated by spaces or tabs; empty lines and lines starting with '#' are
   skipped. The optional body-md5 is the MD5 (hex) of the body: every line
   after the header's empty line with CRLF, trailing empty lines left out
   (uidl-import.c says where it helps). Pure: reading from a stream the
   caller opened. */

/* longest line of a legacy UIDL file */
#define UIDL_IMPORT_FILE_MAX_LINE 1024

/* header_md5 and body_md5 are lower-cased; body_md5 is NULL when the
   line has none. The strings live only for the call. */
typedef void uidl_import_file_callback_t(uoff_t size, const char *header_md5,
					 const char *uidl,
					 const char *body_md5, void *context);

/* Parse one line (*body_md5_r is NULL without the fourth field). Returns 1 for an entry, 0 for a comment or empty line,
   -1 for a malformed line. Strings are allocated from the data stack. */
int uidl_import_file_parse_line(const char *line, uoff_t *size_r,
				const char **header_md5_r,
				const char **uidl_r, const char **body_md5_r);

/* Read the whole file, calling callback for every entry; *count_r is the
   number of entries. Stops at the first malformed line: -1 with *error_r
   naming path and line (allocated from the caller's data stack frame). */
int uidl_import_file_read(struct istream *input, const char *path,
			  uidl_import_file_callback_t *callback, void *context,
			  unsigned int *count_r, const char **error_r);

#endif
