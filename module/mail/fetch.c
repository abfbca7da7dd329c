/* SPDX-License-Identifier: LGPL-2.1-only */
/* RETR and TOP: stream a message with CRLF line endings and dot-stuffing
   (RFC 1939 section 3), whatever line endings the storage has, and
   altpop_client_workarounds (the byte work is pop3-dotstuff.c's). */

#include "lib.h"
#include "istream.h"
#include "ostream.h"
#include "mail-storage.h"
#include "pop3-dotstuff.h"
#include "altpop-client.h"

/* Read-ahead size per round: large reads keep syscalls few. */
#define ALTPOP_FETCH_MAX_CHUNK (64*1024)

/* the ".\r\n" ending a multi-line reply */
#define ALTPOP_FETCH_TERMINATOR_LEN 3

struct altpop_fetch_context {
	struct mail *mail;
	struct istream *stream;
	uoff_t *byte_counter;
	unsigned int msgnum;
	/* where the status line started (logout byte counts) */
	uoff_t start_offset;
	struct pop3_dotstuff stuff;
};

static void altpop_fetch_free(struct altpop_client *client,
			      struct altpop_fetch_context *ctx)
{
	mail_free(&ctx->mail);
	i_free(ctx);
	client->cmd = NULL;
	client->cmd_context = NULL;
}

/* Convert one chunk into fetch_outbuf and send it with one call; returns
   how many input bytes were used. The buffer is allocated on the first
   RETR/TOP of the process and kept: a static array would cost every idle
   session a page of .bss. */
#define ALTPOP_FETCH_OUTBUF_SIZE POP3_DOTSTUFF_MAX_OUTPUT(ALTPOP_FETCH_MAX_CHUNK)
static unsigned char *fetch_outbuf;

static size_t altpop_fetch_chunk(struct altpop_client *client,
				 struct altpop_fetch_context *ctx,
				 const unsigned char *data, size_t size)
{
	size_t used, out_size;

	i_assert(size <= ALTPOP_FETCH_MAX_CHUNK);
	if (fetch_outbuf == NULL)
		fetch_outbuf = i_malloc(ALTPOP_FETCH_OUTBUF_SIZE);
	used = pop3_dotstuff_convert(&ctx->stuff, data, size,
				     fetch_outbuf, &out_size);
	o_stream_nsend(client->output, fetch_outbuf, out_size);
	return used;
}

static void altpop_fetch_finish(struct altpop_client *client,
				struct altpop_fetch_context *ctx)
{
	o_stream_nsend_str(client->output, pop3_dotstuff_trailer(&ctx->stuff));
	/* counted as stock pop3 counts: from the status line on, without
	   the terminating ".\r\n" */
	*ctx->byte_counter += client->output->offset - ctx->start_offset -
		ALTPOP_FETCH_TERMINATOR_LEN;
	/* RETR, or a TOP whose line count reached past the end */
	if (!ctx->stuff.top || !ctx->stuff.done)
		altpop_expire_retrieved(client, ctx->msgnum);
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
	while (!ctx->stuff.done &&
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
	if (!ctx->stuff.done && !ctx->stream->eof) {
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
	ctx->mail = mail_alloc(altpop_msgnum_folder(client, msgnum)->trans,
			       MAIL_FETCH_STREAM_HEADER |
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
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_MESSAGE_EXPUNGED, msgnum + 1);
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

	pop3_dotstuff_init(&ctx->stuff, !retr, body_lines);
	/* like stock pop3, LIST and the +OK below still give the stored
	   size: the workarounds change bytes, not how many (but the empty
	   line oe-ns-eoh adds) */
	pop3_dotstuff_set_workarounds(&ctx->stuff,
				      client->set->parsed_workarounds);
	ctx->byte_counter = byte_counter;
	ctx->msgnum = msgnum;
	ctx->start_offset = client->output->offset;
	if (retr) {
		altpop_client_send_linef(client, "+OK %"PRIuUOFF_T" octets",
					 client->message_sizes[msgnum]);
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
