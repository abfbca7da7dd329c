/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_LINE_READER_H
#define POP3_LINE_READER_H

/* The one reader of POP3 command lines, used by every command loop of both
   binaries (altpop-login's plain and KPOP loops, the post-login client).
   It enforces the input rules in one place:
     - a line ends with LF; a CR right before it is dropped
     - a NUL byte or a CR not followed by LF makes the line bad: it is
       consumed whole and reported, never passed on cut short
     - a line that fills the input stream's buffer without an LF is too
       long (the stream's maximum buffer size is the line length limit) */

struct istream;

enum pop3_line_read_result {
	/* no complete line is buffered yet: read more input */
	POP3_LINE_READ_MORE = 0,
	/* *line_r is the next command line (CR LF removed) */
	POP3_LINE_READ_OK,
	/* a line with a NUL or a bare CR was consumed */
	POP3_LINE_READ_BAD_BYTES,
	/* the buffer is full and holds no LF; nothing was consumed */
	POP3_LINE_READ_TOO_LONG,
};

/* Take the next command line out of input's buffer (never reads from the
   underlying fd). The line stays valid until the next read from input. */
enum pop3_line_read_result
pop3_line_read(struct istream *input, const char **line_r);

#endif
