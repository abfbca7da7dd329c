/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef LAST_LOGIN_FILE_H
#define LAST_LOGIN_FILE_H

/* The LOGIN-DELAY state file format: the time of the user's last
   successful login.
     "altpop-last-login 1" LF <unix time> LF
   (decimal seconds, 0..STATE_FILE_TIME_MAX). Pure: parses and writes
   bytes the caller reads and writes. */

#define LAST_LOGIN_FILE_HEADER "altpop-last-login 1"
/* longest line of a last-login file (the header, or a time) */
#define LAST_LOGIN_FILE_MAX_LINE 32

/* Parse a last-login file's content: *last_r is the time (0 when the file
   is empty, i.e. does not exist yet). Returns 0, or -1 with *error_r
   saying what is wrong (a static string). */
int last_login_file_parse(const unsigned char *data, size_t size,
			  time_t *last_r, const char **error_r);

/* Append the content of a last-login file holding last
   (0..STATE_FILE_TIME_MAX). */
void last_login_file_write(string_t *dest, time_t last);

#endif
