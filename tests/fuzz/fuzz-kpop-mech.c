/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the messages between altpop-login and the KPOP mechanism
   (module/lib/kpop-mech-msg.c): any bytes as an initial response
   and as an 'E' challenge, and both encoders round-tripped. */

#include "lib.h"
#include "buffer.h"
#include "kpop-mech-msg.h"
#include "fuzz-common.h"

void fuzz_one(const unsigned char *data, size_t size)
{
	const unsigned char *chunk, *krb_error;
	size_t chunk_size, krb_error_size, carried, reason_len;
	const char *reason, *error;
	uint32_t total;
	buffer_t *buf;

	/* decoders on anything */
	if (kpop_mech_initial_parse(data, size, &total, &chunk, &chunk_size,
				    &error) == 0) {
		i_assert(total > 0 && total <= KPOP_MAX_AP_REQ_SIZE);
		i_assert(chunk_size <= total &&
			 chunk_size <= KPOP_MECH_CHUNK_SIZE);
		i_assert(chunk + chunk_size == data + size);
	} else {
		i_assert(error != NULL);
	}
	if (kpop_mech_rejected_parse(data, size, &reason, &krb_error,
				     &krb_error_size) == 0) {
		i_assert(strlen(reason) <= KPOP_MECH_MAX_REASON_LEN);
		i_assert(krb_error + krb_error_size == data + size);
	}

	/* initial response round trip */
	if (size > 0 && size <= KPOP_MAX_AP_REQ_SIZE) {
		buf = t_buffer_create(size + KPOP_MECH_INITIAL_HEADER_SIZE);
		carried = kpop_mech_initial_append(buf, data, size);
		i_assert(carried == I_MIN(size, KPOP_MECH_CHUNK_SIZE));
		i_assert(kpop_mech_initial_parse(buf->data, buf->used, &total,
						 &chunk, &chunk_size,
						 &error) == 0);
		i_assert(total == size && chunk_size == carried);
		i_assert(memcmp(chunk, data, carried) == 0);
	}

	/* 'E' challenge round trip: the reason is the input up to its first
	   NUL (cut at the limit), the KRB-ERROR what follows */
	reason = fuzz_str(data, size);
	reason_len = strlen(reason);
	krb_error = reason_len < size ? data + reason_len + 1 : data + size;
	krb_error_size = data + size - krb_error;
	buf = t_buffer_create(size + 3);
	kpop_mech_rejected_append(buf, reason, krb_error, krb_error_size);
	i_assert(((const unsigned char *)buf->data)[0] ==
		 KPOP_MECH_CHALLENGE_REJECTED);
	{
		const char *reason2;
		const unsigned char *krb_error2;
		size_t krb_error_size2;

		i_assert(kpop_mech_rejected_parse(
			CONST_PTR_OFFSET(buf->data, 1), buf->used - 1,
			&reason2, &krb_error2, &krb_error_size2) == 0);
		i_assert(strlen(reason2) ==
			 I_MIN(reason_len, KPOP_MECH_MAX_REASON_LEN));
		i_assert(strncmp(reason2, reason, strlen(reason2)) == 0);
		i_assert(krb_error_size2 == krb_error_size);
		i_assert(krb_error_size == 0 ||
			 memcmp(krb_error2, krb_error, krb_error_size) == 0);
	}
}
