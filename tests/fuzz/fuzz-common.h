/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

/* libFuzzer targets of altpop's parsers and codecs. Each target defines
   fuzz_one(); fuzz-common.c runs it in a data stack frame of its own
   after lib_init(). A failed property is an i_assert() (abort: libFuzzer
   reports it as a crash and saves the input). */

#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

void fuzz_one(const unsigned char *data, size_t size);

/* Most chunks one input is split into. */
#define FUZZ_MAX_CHUNKS 16

/* Split points chosen by the fuzzer: the first byte says how many chunk
   lengths follow (at most FUZZ_MAX_CHUNKS - 1), each one byte; the rest
   is the payload. The last chunk is whatever remains. */
struct fuzz_chunks {
	const unsigned char *payload;
	size_t payload_size;
	unsigned int count;
	size_t sizes[FUZZ_MAX_CHUNKS];
};
void fuzz_chunks_init(struct fuzz_chunks *chunks_r,
		      const unsigned char *data, size_t size);

/* The input as a NUL-terminated string, allocated from the data stack
   (cut at the first NUL byte). */
const char *fuzz_str(const unsigned char *data, size_t size);

#endif
