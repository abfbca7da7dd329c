/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_DOTSTUFF_CHECK_H
#define POP3_DOTSTUFF_CHECK_H

#include "pop3-options.h"

/* Test helpers for the RETR/TOP converter (module/lib/pop3-dotstuff.c),
   shared by its unit test and its fuzz target: a driver that feeds a
   stored message in given chunks, a strict un-stuffer of what it sent and
   a plain line-by-line model of what RETR/TOP should send. */

/* Run the converter over data fed in count chunks of the given sizes
   (their sum is size) and append the trailer. Each chunk converts into a
   heap buffer of exactly POP3_DOTSTUFF_MAX_OUTPUT() bytes, so that a
   sanitizer build catches any overrun. Asserts the converter's own
   promises (output room, input used unless TOP is done). top=FALSE is
   RETR, body_lines is then ignored; workarounds as
   pop3_dotstuff_set_workarounds(). Returns the wire bytes (data stack). */
buffer_t *pop3_dotstuff_check_run(const unsigned char *data, size_t size,
				  const size_t *chunk_sizes,
				  unsigned int count,
				  bool top, uoff_t body_lines,
				  enum pop3_client_workarounds workarounds);

/* Undo the dot-stuffing of a multi-line reply body: every LF must have its
   CR, a line starting with '.' must start with "..", the last line must be
   the lone "." and no other line may be. Returns the body with CRLF line
   ends (data stack), or NULL with *error_r saying which rule broke. */
buffer_t *pop3_dotstuff_check_unstuff(const buffer_t *wire,
				      const char **error_r);

/* What RETR/TOP should send of the message, before stuffing: every line
   with a CRLF end (a stored CR LF stays, a bare LF gets its CR, a last
   line without LF gets a CRLF); for TOP only the header and body_lines
   body lines. The header ends at the first line that is empty or a lone
   CR. With outlook-no-nuls every NUL is POP3_DOTSTUFF_NUL_REPLACEMENT, with
   oe-ns-eoh a message whose header never ends gets a last empty line. */
buffer_t *pop3_dotstuff_check_model(const unsigned char *data, size_t size,
				    bool top, uoff_t body_lines,
				    enum pop3_client_workarounds workarounds);

#endif
