/* SPDX-License-Identifier: LGPL-2.1-only */
/* The POP3 command line reader shared by every command loop. */

#include "lib.h"
#include "istream.h"
#include "pop3-line.h"
#include "pop3-line-reader.h"

enum pop3_line_read_result
pop3_line_read(struct istream *input, const char **line_r)
{
	const unsigned char *data, *lf;
	size_t size, len;
	bool bad;

	*line_r = NULL;
	data = i_stream_get_data(input, &size);
	lf = memchr(data, '\n', size);
	if (lf == NULL) {
		if (size > 0 && size >= i_stream_get_max_buffer_size(input))
			return POP3_LINE_READ_TOO_LONG;
		return POP3_LINE_READ_MORE;
	}
	len = lf - data;
	if (len > 0 && data[len-1] == '\r')
		len--;
	bad = pop3_line_has_bad_bytes(data, len);
	*line_r = i_stream_next_line(input);
	i_assert(*line_r != NULL);
	if (bad) {
		*line_r = NULL;
		return POP3_LINE_READ_BAD_BYTES;
	}
	return POP3_LINE_READ_OK;
}
