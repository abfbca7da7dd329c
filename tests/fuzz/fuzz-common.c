/* SPDX-License-Identifier: LGPL-2.1-only */
/* Shared main parts of the fuzz targets. */

#include "lib.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	lib_init();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	T_BEGIN {
		fuzz_one(data, size);
	} T_END;
	return 0;
}

void fuzz_chunks_init(struct fuzz_chunks *chunks_r,
		      const unsigned char *data, size_t size)
{
	unsigned int n = 0, i;
	size_t left;

	i_zero(chunks_r);
	if (size > 0) {
		n = data[0] % FUZZ_MAX_CHUNKS;
		data++; size--;
		if (n > size)
			n = size;
	}
	chunks_r->payload = data + n;
	chunks_r->payload_size = left = size - n;
	for (i = 0; i < n; i++) {
		size_t len = I_MIN(data[i], left);
		chunks_r->sizes[chunks_r->count++] = len;
		left -= len;
	}
	chunks_r->sizes[chunks_r->count++] = left;
}

const char *fuzz_str(const unsigned char *data, size_t size)
{
	return t_strndup(data, size);
}
