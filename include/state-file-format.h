/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef STATE_FILE_FORMAT_H
#define STATE_FILE_FORMAT_H

/* What the per-maildrop state file formats (last-login-file.h,
   retrieved-file.h) share: LF-terminated lines of decimal numbers, times
   in seconds since 1970. Parsing allocates nothing. */

/* Latest time a state file may hold: 9999-12-31 23:59:59 UTC. A later
   one is corruption, not a time. */
#define STATE_FILE_TIME_MAX 253402300799LL
/* most digits of a number in a state file (leading zeros included) */
#define STATE_FILE_NUMBER_MAX_DIGITS 20

struct state_file_span {
	const unsigned char *data;
	size_t len;
};

enum state_file_line_result {
	STATE_FILE_LINE_OK,
	/* no more lines */
	STATE_FILE_LINE_END,
	/* the line is longer than allowed */
	STATE_FILE_LINE_TOO_LONG,
};

/* The next line of data[*pos..size), without its LF (the last line may
   lack it); *pos moves past it. A line longer than max_len is not
   returned. */
enum state_file_line_result
state_file_next_line(const unsigned char *data, size_t size, size_t *pos,
		     size_t max_len, struct state_file_span *line_r);

/* TRUE if span is exactly str. */
bool state_file_span_equals(const struct state_file_span *span,
			    const char *str);

/* Parse span as a decimal number 0..max (digits only, at most
   STATE_FILE_NUMBER_MAX_DIGITS). Returns 0 or -1. */
int state_file_number_parse(const struct state_file_span *span,
			    uint64_t max, uint64_t *num_r);
/* Parse span as a time (0..STATE_FILE_TIME_MAX). Returns 0 or -1. */
int state_file_time_parse(const struct state_file_span *span,
			  time_t *time_r);

#endif
