/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the RETR/TOP converter (module/lib/pop3-dotstuff.c). The
   first byte picks RETR or TOP n and the client workarounds, the rest goes
   through fuzz_chunks_init() (the stored message arrives in fuzzer-chosen
   pieces). Properties: the output has only CRLF line ends, no line is a
   lone "." before the end, and un-stuffing it gives the message with CRLF
   line ends (RETR), or the header and exactly n body lines of it (TOP n),
   NULs replaced (outlook-no-nuls) and an empty line added to a header
   that never ends (oe-ns-eoh). The driver, un-stuffer and model are the
   unit test's (tests/lib/pop3-dotstuff-check.c). */

#include "lib.h"
#include "buffer.h"
#include "pop3-dotstuff-check.h"
#include "fuzz-common.h"

/* the first byte: TOP (else RETR), the workarounds, TOP's n */
#define FUZZ_DOTSTUFF_TOP 0x80
#define FUZZ_DOTSTUFF_NO_NULS 0x20
#define FUZZ_DOTSTUFF_EOH 0x10
#define FUZZ_DOTSTUFF_LINES_MASK 0x0f

void fuzz_one(const unsigned char *data, size_t size)
{
	struct fuzz_chunks chunks;
	buffer_t *wire, *body;
	const char *error;
	enum pop3_client_workarounds workarounds = 0;
	bool top;
	uoff_t n;

	if (size == 0)
		return;
	top = (data[0] & FUZZ_DOTSTUFF_TOP) != 0;
	n = data[0] & FUZZ_DOTSTUFF_LINES_MASK;
	if ((data[0] & FUZZ_DOTSTUFF_NO_NULS) != 0)
		workarounds |= POP3_WORKAROUND_OUTLOOK_NO_NULS;
	if ((data[0] & FUZZ_DOTSTUFF_EOH) != 0)
		workarounds |= POP3_WORKAROUND_OE_NS_EOH;
	fuzz_chunks_init(&chunks, data + 1, size - 1);

	wire = pop3_dotstuff_check_run(chunks.payload, chunks.payload_size,
				       chunks.sizes, chunks.count, top, n,
				       workarounds);
	body = pop3_dotstuff_check_unstuff(wire, &error);
	if (body == NULL)
		i_panic("dotstuff: %s", error);
	i_assert(buffer_cmp(body, pop3_dotstuff_check_model(
		chunks.payload, chunks.payload_size, top, n, workarounds)));
}
