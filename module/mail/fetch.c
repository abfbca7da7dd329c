/* RETR and TOP: stream a message with CRLF line endings and dot-stuffing
   (RFC 1939 section 3), whatever line endings the storage has. */

#include "lib.h"
#include "istream.h"
#include "ostream.h"
#include "mail-storage.h"
#include "altpop-client.h"

/* Read-ahead size per round: large reads keep syscalls few. */
#define ALTPOP_FETCH_MAX_CHUNK (64*1024)

/* the ".\r\n" ending a multi-line reply */
#define ALTPOP_FETCH_TERMINATOR_LEN 3

struct altpop_fetch_context {
	struct mail *mail;
	struct istream *stream;
	/* body lines still to send (TOP); UOFF_T_MAX = whole message */
	uoff_t body_lines;
	uoff_t *byte_counter;
	/* where the status line started (logout byte counts) */
	uoff_t start_offset;

	/* last byte of the stored message consumed so far */
	unsigned char last;
	bool top:1;
	bool in_body:1;
	bool line_nonempty:1;
	bool done:1;
};

static void altpop_fetch_free(struct altpop_client *client,
			      struct altpop_fetch_context *ctx)
{
	mail_free(&ctx->mail);
	i_free(ctx);
	client->cmd = NULL;
	client->cmd_context = NULL;
}

/* A line of the stored message ended; returns TRUE when TOP has sent
   everything it should. */
static bool altpop_fetch_line_end(struct altpop_fetch_context *ctx)
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
	return stop;
}

/* Convert one chunk into fetch_outbuf and send it with one call; returns
   how many input bytes were used. Every line costs a memchr() and a
   memcpy(), not a stream call per line fragment. The output of a chunk is
   at most twice its size: a line of "." and LF becomes ".." CRLF, any
   other line grows by at most its CR and a stuffed dot. The buffer is
   allocated on the first RETR/TOP of the process and kept: a static array
   would cost every idle session a page of .bss. */
#define ALTPOP_FETCH_OUTBUF_SIZE (ALTPOP_FETCH_MAX_CHUNK * 2)
static unsigned char *fetch_outbuf;

static size_t altpop_fetch_chunk(struct altpop_client *client,
				 struct altpop_fetch_context *ctx,
				 const unsigned char *data, size_t size)
{
	unsigned char *out;
	size_t i = 0, o = 0;

	i_assert(size <= ALTPOP_FETCH_MAX_CHUNK);
	if (fetch_outbuf == NULL)
		fetch_outbuf = i_malloc(ALTPOP_FETCH_OUTBUF_SIZE);
	out = fetch_outbuf;
	while (i < size) {
		if (ctx->last == '\n' && data[i] == '.') {
			/* dot-stuff */
			out[o++] = '.';
		}
		const unsigned char *lf = memchr(data + i, '\n', size - i);
		if (lf == NULL) {
			if (size - i > 1 || data[i] != '\r')
				ctx->line_nonempty = TRUE;
			memcpy(out + o, data + i, size - i);
			o += size - i;
			ctx->last = data[size - 1];
			i = size;
			break;
		}
		size_t j = lf - data, seg = j - i;
		unsigned char prev = seg > 0 ? data[j - 1] : ctx->last;

		if (seg > 1 || (seg == 1 && data[i] != '\r'))
			ctx->line_nonempty = TRUE;
		memcpy(out + o, data + i, seg);
		o += seg;
		if (prev != '\r') {
			/* bare LF in storage: send CRLF */
			out[o++] = '\r';
		}
		out[o++] = '\n';
		i = j + 1;
		ctx->last = '\n';
		if (altpop_fetch_line_end(ctx)) {
			ctx->done = TRUE;
			break;
		}
	}
	o_stream_nsend(client->output, out, o);
	return i;
}

static void altpop_fetch_finish(struct altpop_client *client,
				struct altpop_fetch_context *ctx)
{
	if (ctx->last != '\n') {
		/* the stored message has no final line end */
		o_stream_nsend(client->output, "\r\n", 2);
	}
	o_stream_nsend(client->output, ".\r\n", 3);
	/* counted as stock pop3 counts: from the status line on, without
	   the terminating ".\r\n" */
	*ctx->byte_counter += client->output->offset - ctx->start_offset -
		ALTPOP_FETCH_TERMINATOR_LEN;
	altpop_fetch_free(client, ctx);
}

static void altpop_fetch_continue(struct altpop_client *client)
{
	struct altpop_fetch_context *ctx = client->cmd_context;
	const unsigned char *data;
	size_t size;
	int ret;

	if (client->output->closed) {
		/* client gone (or being destroyed) */
		altpop_fetch_free(client, ctx);
		return;
	}
	while (!ctx->done &&
	       (ret = i_stream_read_more(ctx->stream, &data, &size)) > 0) {
		size = I_MIN(size, ALTPOP_FETCH_MAX_CHUNK);
		i_stream_skip(ctx->stream,
			      altpop_fetch_chunk(client, ctx, data, size));
		if (ALTPOP_CLIENT_OUTPUT_FULL(client)) {
			if ((ret = o_stream_flush(client->output)) < 0)
				break;
			if (ALTPOP_CLIENT_OUTPUT_FULL(client)) {
				/* resumed from the flush callback */
				return;
			}
		}
	}
	if (ctx->stream->stream_errno != 0) {
		/* Never end a broken message with the terminating dot: the
		   client would take it as complete. */
		e_error(client->event, "RETR/TOP of UID %u failed: %s",
			ctx->mail->uid, i_stream_get_error(ctx->stream));
		altpop_fetch_free(client, ctx);
		altpop_client_disconnect(client, "Message read failed");
		return;
	}
	if (!ctx->done && !ctx->stream->eof) {
		/* shouldn't happen with blocking mail streams; retry later */
		o_stream_set_flush_pending(client->output, TRUE);
		return;
	}
	altpop_fetch_finish(client, ctx);
}

int altpop_fetch(struct altpop_client *client, unsigned int msgnum,
		 uoff_t body_lines, uoff_t *byte_counter)
{
	struct altpop_fetch_context *ctx;
	bool retr = body_lines == UOFF_T_MAX;

	ctx = i_new(struct altpop_fetch_context, 1);
	ctx->mail = mail_alloc(client->trans, MAIL_FETCH_STREAM_HEADER |
			       MAIL_FETCH_STREAM_BODY, NULL);
	mail_set_seq(ctx->mail, altpop_msgnum_to_seq(client, msgnum));
	if (mail_get_stream_because(ctx->mail, NULL, NULL,
				    retr ? "RETR" : "TOP", &ctx->stream) < 0) {
		bool expunged = ctx->mail->expunged;

		altpop_fetch_free(client, ctx);
		if (!expunged) {
			altpop_client_send_storage_error(client);
			return 1;
		}
		altpop_client_send_linef(client, "-ERR Message %u expunged.",
					 msgnum + 1);
		/* asking for the same vanished message again and again is
		   a bad command loop */
		if (msgnum <= client->highest_expunged_msgnum &&
		    client->highest_expunged_msgnum != 0)
			return -1;
		client->highest_expunged_msgnum = msgnum;
		return 1;
	}
	if (retr && client->seen_bitmask != NULL &&
	    (mail_get_flags(ctx->mail) & MAIL_SEEN) == 0) {
		ALTPOP_MSGNUM_BIT_SET(client->seen_bitmask, msgnum);
		client->seen_change_count++;
	}

	ctx->top = !retr;
	ctx->body_lines = body_lines;
	ctx->byte_counter = byte_counter;
	ctx->last = '\n';
	ctx->start_offset = client->output->offset;
	if (retr) {
		altpop_client_send_linef(client, "+OK %"PRIuUOFF_T" octets",
					 client->messages[msgnum].size);
	} else {
		altpop_client_send_line(client, "+OK");
	}
	if (client->sdps_envelopes != NULL &&
	    client->sdps_envelopes[msgnum].return_path_line != NULL) {
		/* SDPS: the envelope sender leads the message */
		o_stream_nsend_str(client->output,
			client->sdps_envelopes[msgnum].return_path_line);
	}
	client->cmd = altpop_fetch_continue;
	client->cmd_context = ctx;
	altpop_fetch_continue(client);
	return 1;
}
