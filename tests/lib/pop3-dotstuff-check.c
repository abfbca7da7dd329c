/* SPDX-License-Identifier: LGPL-2.1-only */
/* Test helpers for the RETR/TOP converter: see pop3-dotstuff-check.h. */

#include "lib.h"
#include "buffer.h"
#include "pop3-dotstuff.h"
#include "pop3-dotstuff-check.h"

#include <stdlib.h>

buffer_t *pop3_dotstuff_check_run(const unsigned char *data, size_t size,
				  const size_t *chunk_sizes,
				  unsigned int count,
				  bool top, uoff_t body_lines,
				  enum pop3_client_workarounds workarounds)
{
	struct pop3_dotstuff ctx;
	buffer_t *out = t_buffer_create(size * 2 + 8);
	const char *trailer;
	size_t pos = 0;

	pop3_dotstuff_init(&ctx, top, top ? body_lines : UOFF_T_MAX);
	pop3_dotstuff_set_workarounds(&ctx, workarounds);
	for (unsigned int i = 0; i < count && !ctx.done; i++) {
		size_t csize = chunk_sizes[i], used, out_size;
		/* exactly the promised room (at least one byte for malloc) */
		unsigned char *obuf =
			malloc(I_MAX(POP3_DOTSTUFF_MAX_OUTPUT(csize), 1));

		i_assert(obuf != NULL);
		i_assert(pos + csize <= size);
		used = pop3_dotstuff_convert(&ctx, data + pos, csize,
					     obuf, &out_size);
		i_assert(out_size <= POP3_DOTSTUFF_MAX_OUTPUT(csize));
		i_assert(used == csize || ctx.done);
		buffer_append(out, obuf, out_size);
		free(obuf);
		pos += used;
	}
	trailer = pop3_dotstuff_trailer(&ctx);
	buffer_append(out, trailer, strlen(trailer));
	return out;
}

buffer_t *pop3_dotstuff_check_unstuff(const buffer_t *wire,
				      const char **error_r)
{
	const unsigned char *o = wire->data;
	size_t olen = wire->used, start = 0;
	buffer_t *body = t_buffer_create(olen);

	if (olen < 3 || memcmp(o + olen - 3, ".\r\n", 3) != 0) {
		*error_r = "reply does not end with .CRLF";
		return NULL;
	}
	for (size_t i = 0; i < olen; i++) {
		if (o[i] != '\n')
			continue;
		if (i == start || o[i - 1] != '\r') {
			*error_r = t_strdup_printf("bare LF at offset %zu", i);
			return NULL;
		}
		if (i + 1 == olen) {
			if (i - start != 2 || o[start] != '.') {
				*error_r = "last line is not the lone dot";
				return NULL;
			}
			return body;
		}
		if (o[start] == '.') {
			if (i - start < 3 || o[start + 1] != '.') {
				*error_r = t_strdup_printf(
					"unstuffed dot at offset %zu", start);
				return NULL;
			}
			start++;
		}
		buffer_append(body, o + start, i + 1 - start);
		start = i + 1;
	}
	*error_r = "reply does not end with a line end";
	return NULL;
}

buffer_t *pop3_dotstuff_check_model(const unsigned char *data, size_t size,
				    bool top, uoff_t body_lines,
				    enum pop3_client_workarounds workarounds)
{
	buffer_t *want = t_buffer_create(size * 2 + 4);
	bool in_body = FALSE;
	size_t start = 0;

	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		if (i == size && start == size)
			break;
		size_t raw_len = i - start;
		size_t len = i < size && raw_len > 0 && data[i - 1] == '\r' ?
			raw_len - 1 : raw_len;

		if (top && in_body) {
			if (body_lines == 0)
				break;
			body_lines--;
		}
		for (size_t k = start; k < start + len; k++) {
			buffer_append_c(want, data[k] == '\0' &&
				(workarounds & POP3_WORKAROUND_OUTLOOK_NO_NULS) != 0 ?
				POP3_DOTSTUFF_NUL_REPLACEMENT : data[k]);
		}
		buffer_append(want, "\r\n", 2);
		if (!in_body && (raw_len == 0 ||
				 (raw_len == 1 && data[start] == '\r'))) {
			in_body = TRUE;
			if (top && body_lines == 0)
				break;
		}
		start = i + 1;
	}
	if (!in_body && (workarounds & POP3_WORKAROUND_OE_NS_EOH) != 0)
		buffer_append(want, "\r\n", 2);
	return want;
}
