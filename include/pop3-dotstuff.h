/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_DOTSTUFF_H
#define POP3_DOTSTUFF_H

/* RETR/TOP body conversion (RFC 1939 section 3): CRLF line ends whatever
   the storage holds (bare LF gets a CR), a '.' that starts a line is
   doubled, TOP stops after the header and n body lines; optionally
   Dovecot pop3's client workarounds (altpop_client_workarounds). Pure: the
   caller feeds the stored message in chunks of any size and sends the
   output. */

#include "pop3-options.h"

/* outlook-no-nuls: what a NUL byte of the message is sent as */
#define POP3_DOTSTUFF_NUL_REPLACEMENT 0x80

/* The output of a chunk is at most this long: a line of "." and LF
   becomes ".." CRLF, any other line grows by at most its CR and a
   stuffed dot. */
#define POP3_DOTSTUFF_MAX_OUTPUT(input_size) ((input_size) * 2)

struct pop3_dotstuff {
	/* body lines still to send (TOP) */
	uoff_t body_lines;
	/* last byte of the stored message consumed so far */
	unsigned char last;
	bool top:1;
	bool in_body:1;
	/* the current line has something besides one CR */
	bool line_nonempty:1;
	/* the current line so far is exactly one CR */
	bool line_cr:1;
	/* TOP has sent everything it should */
	bool done:1;
	/* POP3_WORKAROUND_OUTLOOK_NO_NULS */
	bool replace_nuls:1;
	/* POP3_WORKAROUND_OE_NS_EOH */
	bool add_missing_eoh:1;
};

/* top=FALSE: the whole message (RETR); top=TRUE: the header and
   body_lines lines of the body. */
void pop3_dotstuff_init(struct pop3_dotstuff *ctx, bool top,
			uoff_t body_lines);
/* Turn on the client workarounds (after init, before the first chunk):
   outlook-no-nuls sends every NUL as POP3_DOTSTUFF_NUL_REPLACEMENT (the
   output is as long); oe-ns-eoh ends a message whose header never ends
   with an empty line (the trailer). */
void pop3_dotstuff_set_workarounds(struct pop3_dotstuff *ctx,
				   enum pop3_client_workarounds workarounds);

/* Convert a chunk into out (room for POP3_DOTSTUFF_MAX_OUTPUT(size)
   bytes). Returns how many input bytes were used: less than size only when
   TOP is done (ctx->done). *out_size_r is the output length. */
size_t pop3_dotstuff_convert(struct pop3_dotstuff *ctx,
			     const unsigned char *data, size_t size,
			     unsigned char *out, size_t *out_size_r);

/* What follows the converted message: a CRLF when the stored message has
   no final line end; with oe-ns-eoh, a CRLF (the empty line) when the
   header never ended (no empty or lone-CR line, the last line included
   when it has no LF); then the terminating ".\r\n". */
const char *pop3_dotstuff_trailer(const struct pop3_dotstuff *ctx);

#endif
