/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the RETR/TOP converter (module/lib/pop3-dotstuff.c). The
   first byte picks RETR or TOP n, the rest goes through fuzz_chunks_init()
   (the stored message arrives in fuzzer-chosen pieces). Properties: the
   output has only CRLF line ends, no line is a lone "." before the end,
   and un-stuffing it gives the message with CRLF line ends (RETR), or the
   header and exactly n body lines of it (TOP n). The driver, un-stuffer
   and model are the unit test's (tests/lib/pop3-dotstuff-check.c). */

#include "lib.h"
#include "buffer.h"
#include "pop3-dotstuff-check.h"
#include "fuzz-common.h"

void fuzz_one(const unsigned char *data, size_t size)
{
	struct fuzz_chunks chunks;
	buffer_t *wire, *body;
	const char *error;
	bool top;
	uoff_t n;

	if (size == 0)
		return;
	top = (data[0] & 0x80) != 0;
	n = data[0] & 0x0f;
	fuzz_chunks_init(&chunks, data + 1, size - 1);

	wire = pop3_dotstuff_check_run(chunks.payload, chunks.payload_size,
				       chunks.sizes, chunks.count, top, n);
	body = pop3_dotstuff_check_unstuff(wire, &error);
	if (body == NULL)
		i_panic("dotstuff: %s", error);
	i_assert(buffer_cmp(body, pop3_dotstuff_check_model(
		chunks.payload, chunks.payload_size, top, n)));
}
