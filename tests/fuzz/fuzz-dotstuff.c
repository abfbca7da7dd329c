/* Fuzz target: the RETR/TOP converter (module/lib/pop3-dotstuff.c). The
   first byte picks RETR or TOP n, the rest goes through fuzz_chunks_init()
   (the stored message arrives in fuzzer-chosen pieces). Properties: the
   output has only CRLF line ends, no line is a lone "." before the end,
   and un-stuffing it gives the message with CRLF line ends (RETR), or the
   header and exactly n body lines of it (TOP n). */

#include "lib.h"
#include "buffer.h"
#include "pop3-dotstuff.h"
#include "fuzz-common.h"

/* What RETR/TOP should send of the message, unstuffed: every line with a
   CRLF end (a stored CR LF stays, a bare LF gets its CR, a last line
   without LF gets a CRLF), for TOP only the header and n body lines. The
   header ends at the first line that is empty or a lone CR. */
static buffer_t *expected_output(const unsigned char *data, size_t size,
				 bool top, uoff_t n)
{
	buffer_t *want = t_buffer_create(size * 2 + 2);
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
			if (n == 0)
				break;
			n--;
		}
		buffer_append(want, data + start, len);
		buffer_append(want, "\r\n", 2);
		if (!in_body && (raw_len == 0 ||
				 (raw_len == 1 && data[start] == '\r'))) {
			in_body = TRUE;
			if (top && n == 0)
				break;
		}
		start = i + 1;
	}
	return want;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	struct fuzz_chunks chunks;
	struct pop3_dotstuff ctx;
	buffer_t *out, *expected;
	bool top;
	uoff_t n = 0;
	size_t pos = 0;

	if (size == 0)
		return;
	top = (data[0] & 0x80) != 0;
	n = data[0] & 0x0f;
	fuzz_chunks_init(&chunks, data + 1, size - 1);
	pop3_dotstuff_init(&ctx, top, top ? n : UOFF_T_MAX);

	out = t_buffer_create(chunks.payload_size * 2 + 8);
	for (unsigned int i = 0; i < chunks.count && !ctx.done; i++) {
		size_t csize = chunks.sizes[i], used, out_size;
		/* exactly the promised room: ASan catches any overrun */
		unsigned char *obuf = malloc(POP3_DOTSTUFF_MAX_OUTPUT(csize));

		used = pop3_dotstuff_convert(&ctx, chunks.payload + pos, csize,
					     obuf, &out_size);
		i_assert(out_size <= POP3_DOTSTUFF_MAX_OUTPUT(csize));
		i_assert(used == csize || ctx.done);
		buffer_append(out, obuf, out_size);
		free(obuf);
		pos += used;
	}
	buffer_append(out, pop3_dotstuff_trailer(&ctx),
		      strlen(pop3_dotstuff_trailer(&ctx)));

	/* un-stuff: every LF has its CR, a line starting with '.' has a
	   second one, the last line is the lone "." */
	const unsigned char *o = out->data;
	size_t olen = out->used, start = 0;
	expected = t_buffer_create(olen);
	i_assert(olen >= 3 && memcmp(o + olen - 3, ".\r\n", 3) == 0);
	for (size_t i = 0; i < olen; i++) {
		if (o[i] != '\n')
			continue;
		i_assert(i > start && o[i - 1] == '\r');
		if (i + 1 == olen) {
			/* the terminator */
			i_assert(i - start == 2 && o[start] == '.');
			break;
		}
		if (o[start] == '.') {
			i_assert(i - start >= 3 && o[start + 1] == '.');
			start++;
		}
		buffer_append(expected, o + start, i + 1 - start);
		start = i + 1;
	}

	i_assert(buffer_cmp(expected, expected_output(chunks.payload,
						      chunks.payload_size,
						      top, n)));
}
