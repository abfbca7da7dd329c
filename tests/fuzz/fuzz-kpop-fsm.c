/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: altpop-login's KPOP state machine (module/login/kpop-fsm.c)
   driven with a client's bytes by tests/lib/kpop-fsm-drive.c (the
   sendauth phase, the mechanism accepting the ticket, then POP3 command
   lines through the line reader). The payload is fed whole and cut at
   fuzzer-chosen points (see fuzz_chunks_init()): both runs must write the
   same record, and every action must keep the machine's promises (the
   driver checks them). A small line limit makes over-long lines
   reachable. */

#include "lib.h"
#include "str.h"
#include "kpop-fsm-drive.h"
#include "fuzz-common.h"

#define FUZZ_KPOP_MAX_LINE 64

static const char *
kpop_fsm_run(const unsigned char *data, size_t size, const size_t *sizes,
	     unsigned int count)
{
	struct kpop_fsm_drive drive;
	const char *record;
	size_t avail = 0;

	kpop_fsm_drive_init(&drive, data, size);
	drive.max_line = FUZZ_KPOP_MAX_LINE;
	for (unsigned int i = 0; i < count; i++) {
		avail += sizes[i];
		kpop_fsm_drive_feed(&drive, avail);
	}
	i_assert(avail == size);
	record = t_strdup(str_c(drive.record));
	kpop_fsm_drive_deinit(&drive);
	return record;
}

void fuzz_one(const unsigned char *data, size_t size)
{
	struct fuzz_chunks chunks;
	const char *whole, *cut;

	fuzz_chunks_init(&chunks, data, size);
	whole = kpop_fsm_run(chunks.payload, chunks.payload_size,
			     &chunks.payload_size, 1);
	cut = kpop_fsm_run(chunks.payload, chunks.payload_size,
			   chunks.sizes, chunks.count);
	i_assert(strcmp(whole, cut) == 0);
}
