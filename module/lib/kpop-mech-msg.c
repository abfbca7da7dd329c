/* SPDX-License-Identifier: LGPL-2.1-only */
/* The messages of the private KPOP mechanism (altpop-login <-> auth
   process). No I/O here: see include/kpop-mech-msg.h. */

#include "lib.h"
#include "buffer.h"
#include "byteorder.h"
#include "kpop-mech-msg.h"

size_t kpop_mech_initial_append(buffer_t *dest, const unsigned char *ap_req,
				size_t ap_req_size)
{
	size_t chunk = I_MIN(ap_req_size, KPOP_MECH_CHUNK_SIZE);
	unsigned char size_be[4];

	i_assert(ap_req_size <= (uint32_t)-1);
	cpu32_to_be_unaligned((uint32_t)ap_req_size, size_be);
	buffer_append_c(dest, KPOP_MECH_VERSION);
	buffer_append(dest, size_be, sizeof(size_be));
	buffer_append(dest, ap_req, chunk);
	return chunk;
}

int kpop_mech_initial_parse(const unsigned char *data, size_t size,
			    uint32_t *total_size_r,
			    const unsigned char **chunk_r, size_t *chunk_size_r,
			    const char **error_r)
{
	uint32_t total;

	if (size < KPOP_MECH_INITIAL_HEADER_SIZE) {
		*error_r = "initial response too short";
		return -1;
	}
	if (data[0] != KPOP_MECH_VERSION) {
		*error_r = t_strdup_printf("unsupported KPOP mechanism "
					   "version %u", data[0]);
		return -1;
	}
	total = be32_to_cpu_unaligned(data + 1);
	if (total == 0 || total > KPOP_MAX_AP_REQ_SIZE) {
		*error_r = t_strdup_printf("invalid AP-REQ size %u", total);
		return -1;
	}
	size -= KPOP_MECH_INITIAL_HEADER_SIZE;
	if (size > total || size > KPOP_MECH_CHUNK_SIZE) {
		*error_r = "initial response larger than announced";
		return -1;
	}
	*total_size_r = total;
	*chunk_r = data + KPOP_MECH_INITIAL_HEADER_SIZE;
	*chunk_size_r = size;
	return 0;
}

void kpop_mech_rejected_append(buffer_t *dest, const char *reason,
			       const void *krb_error, size_t krb_error_size)
{
	size_t len = strlen(reason);
	unsigned char len_be[2];

	if (len > KPOP_MECH_MAX_REASON_LEN)
		len = KPOP_MECH_MAX_REASON_LEN;
	cpu16_to_be_unaligned((uint16_t)len, len_be);
	buffer_append_c(dest, KPOP_MECH_CHALLENGE_REJECTED);
	buffer_append(dest, len_be, sizeof(len_be));
	buffer_append(dest, reason, len);
	buffer_append(dest, krb_error, krb_error_size);
}

int kpop_mech_rejected_parse(const unsigned char *data, size_t size,
			     const char **reason_r,
			     const unsigned char **krb_error_r,
			     size_t *krb_error_size_r)
{
	size_t len;

	if (size < 2)
		return -1;
	len = be16_to_cpu_unaligned(data);
	if (len > KPOP_MECH_MAX_REASON_LEN || len > size - 2)
		return -1;
	*reason_r = t_strndup(data + 2, len);
	if (strlen(*reason_r) != len)
		return -1;
	*krb_error_r = data + 2 + len;
	*krb_error_size_r = size - 2 - len;
	return 0;
}
