/* SPDX-License-Identifier: LGPL-2.1-only */
/* RETR/TOP: CRLF line ends and dot-stuffing, a chunk at a time. */

#include "lib.h"
#include "pop3-dotstuff.h"

void pop3_dotstuff_init(struct pop3_dotstuff *ctx, bool top,
			uoff_t body_lines)
{
	i_zero(ctx);
	ctx->top = top;
	ctx->body_lines = body_lines;
	/* the first byte starts a line */
	ctx->last = '\n';
}

void pop3_dotstuff_set_workarounds(struct pop3_dotstuff *ctx,
				   enum pop3_client_workarounds workarounds)
{
	ctx->replace_nuls =
		(workarounds & POP3_WORKAROUND_OUTLOOK_NO_NULS) != 0;
	ctx->add_missing_eoh =
		(workarounds & POP3_WORKAROUND_OE_NS_EOH) != 0;
}

/* outlook-no-nuls: the NULs of bytes already copied to the output */
static void pop3_dotstuff_replace_nuls(unsigned char *data, size_t size)
{
	unsigned char *end = data + size, *p = data;

	while ((p = memchr(p, '\0', end - p)) != NULL)
		*p++ = POP3_DOTSTUFF_NUL_REPLACEMENT;
}

/* Copy a segment of the current line (no LF in it) to the output. */
static size_t pop3_dotstuff_copy(const struct pop3_dotstuff *ctx,
				 unsigned char *out, const unsigned char *data,
				 size_t size)
{
	memcpy(out, data, size);
	if (ctx->replace_nuls)
		pop3_dotstuff_replace_nuls(out, size);
	return size;
}

/* Bytes of the current line (without its LF) were seen. An empty line is
   "" or a single CR, even when its bytes arrive in several chunks. */
static void pop3_dotstuff_line_bytes(struct pop3_dotstuff *ctx,
				     const unsigned char *data, size_t size)
{
	if (size == 0 || ctx->line_nonempty)
		return;
	if (size > 1 || data[0] != '\r' || ctx->line_cr)
		ctx->line_nonempty = TRUE;
	else
		ctx->line_cr = TRUE;
}

/* A line of the stored message ended; returns TRUE when TOP has sent
   everything it should. */
static bool pop3_dotstuff_line_end(struct pop3_dotstuff *ctx)
{
	bool stop = FALSE;

	if (!ctx->in_body) {
		if (!ctx->line_nonempty) {
			ctx->in_body = TRUE;
			stop = ctx->top && ctx->body_lines == 0;
		}
	} else if (ctx->top) {
		stop = --ctx->body_lines == 0;
	}
	ctx->line_nonempty = FALSE;
	ctx->line_cr = FALSE;
	return stop;
}

/* Every line costs a memchr() and a memcpy(), not a call per byte. */
size_t pop3_dotstuff_convert(struct pop3_dotstuff *ctx,
			     const unsigned char *data, size_t size,
			     unsigned char *out, size_t *out_size_r)
{
	size_t i = 0, o = 0;

	if (ctx->done) {
		*out_size_r = 0;
		return 0;
	}
	while (i < size) {
		if (ctx->last == '\n' && data[i] == '.') {
			/* dot-stuff */
			out[o++] = '.';
		}
		const unsigned char *lf = memchr(data + i, '\n', size - i);
		if (lf == NULL) {
			pop3_dotstuff_line_bytes(ctx, data + i, size - i);
			o += pop3_dotstuff_copy(ctx, out + o, data + i,
						size - i);
			ctx->last = data[size - 1];
			i = size;
			break;
		}
		size_t j = lf - data, seg = j - i;
		unsigned char prev = seg > 0 ? data[j - 1] : ctx->last;

		pop3_dotstuff_line_bytes(ctx, data + i, seg);
		o += pop3_dotstuff_copy(ctx, out + o, data + i, seg);
		if (prev != '\r') {
			/* bare LF in storage: send CRLF */
			out[o++] = '\r';
		}
		out[o++] = '\n';
		i = j + 1;
		ctx->last = '\n';
		if (pop3_dotstuff_line_end(ctx)) {
			ctx->done = TRUE;
			break;
		}
	}
	*out_size_r = o;
	return i;
}

/* The header ended: an empty or lone-CR line was seen, or the last line
   (without its LF) is a lone CR. */
static bool pop3_dotstuff_header_ended(const struct pop3_dotstuff *ctx)
{
	return ctx->in_body || (ctx->line_cr && !ctx->line_nonempty);
}

const char *pop3_dotstuff_trailer(const struct pop3_dotstuff *ctx)
{
	/* the stored message may have no final line end */
	bool line_end = ctx->last != '\n';
	bool eoh = ctx->add_missing_eoh && !pop3_dotstuff_header_ended(ctx);

	if (eoh)
		return line_end ? "\r\n\r\n.\r\n" : "\r\n.\r\n";
	return line_end ? "\r\n.\r\n" : ".\r\n";
}
