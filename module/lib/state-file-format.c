/* SPDX-License-Identifier: LGPL-2.1-only */
/* Lines and numbers of the state file formats (state-file-format.h). */

#include "lib.h"
#include "state-file-format.h"

enum state_file_line_result
state_file_next_line(const unsigned char *data, size_t size, size_t *pos,
		     size_t max_len, struct state_file_span *line_r)
{
	const unsigned char *lf;
	size_t len;

	if (*pos >= size)
		return STATE_FILE_LINE_END;
	lf = memchr(data + *pos, '\n', size - *pos);
	len = (lf == NULL ? size : (size_t)(lf - data)) - *pos;
	if (len > max_len)
		return STATE_FILE_LINE_TOO_LONG;
	line_r->data = data + *pos;
	line_r->len = len;
	*pos += len + (lf == NULL ? 0 : 1);
	return STATE_FILE_LINE_OK;
}

bool state_file_span_equals(const struct state_file_span *span,
			    const char *str)
{
	return span->len == strlen(str) &&
		memcmp(span->data, str, span->len) == 0;
}

int state_file_number_parse(const struct state_file_span *span,
			    uint64_t max, uint64_t *num_r)
{
	uint64_t num = 0;

	if (span->len == 0 || span->len > STATE_FILE_NUMBER_MAX_DIGITS)
		return -1;
	for (size_t i = 0; i < span->len; i++) {
		unsigned int digit = span->data[i] - '0';

		if (span->data[i] < '0' || span->data[i] > '9')
			return -1;
		if (digit > max || num > (max - digit) / 10)
			return -1;
		num = num * 10 + digit;
	}
	*num_r = num;
	return 0;
}

int state_file_time_parse(const struct state_file_span *span,
			  time_t *time_r)
{
	uint64_t num;

	if (state_file_number_parse(span, STATE_FILE_TIME_MAX, &num) < 0)
		return -1;
	*time_r = (time_t)num;
	return 0;
}
