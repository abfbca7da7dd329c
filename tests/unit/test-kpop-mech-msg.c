/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/kpop-mech-msg.c */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "test-common.h"
#include "kpop-mech-msg.h"

static const unsigned char test_ap_req[] = {
	0x6e, 0x82, 0x01, 0x00, 0x00, 0x0d, 0x0a, 0xff, 0x30, 0x31
};

static void test_kpop_mech_messages(void)
{
	buffer_t *buf = t_buffer_create(64);
	unsigned char *big;
	const unsigned char *chunk, *krb_error;
	const char *error, *reason;
	char *long_reason;
	size_t chunk_size, krb_error_size, n;
	uint32_t total;

	test_begin("KPOP mechanism: initial response");
	n = kpop_mech_initial_append(buf, test_ap_req, sizeof(test_ap_req));
	test_assert(n == sizeof(test_ap_req));
	test_assert(kpop_mech_initial_parse(buf->data, buf->used, &total,
					    &chunk, &chunk_size, &error) == 0);
	test_assert(total == sizeof(test_ap_req));
	test_assert(chunk_size == sizeof(test_ap_req) &&
		    memcmp(chunk, test_ap_req, chunk_size) == 0);

	/* a large AP-REQ goes in chunks */
	big = t_malloc0(KPOP_MAX_AP_REQ_SIZE);
	buffer_set_used_size(buf, 0);
	n = kpop_mech_initial_append(buf, big, KPOP_MAX_AP_REQ_SIZE);
	test_assert(n == KPOP_MECH_CHUNK_SIZE);
	test_assert(kpop_mech_initial_parse(buf->data, buf->used, &total,
					    &chunk, &chunk_size, &error) == 0);
	test_assert(total == KPOP_MAX_AP_REQ_SIZE);
	test_assert(chunk_size == KPOP_MECH_CHUNK_SIZE);

	/* malformed */
	test_assert(kpop_mech_initial_parse(buf->data, 4, &total, &chunk,
					    &chunk_size, &error) < 0);
	test_assert(kpop_mech_initial_parse((const unsigned char *)
					    "\x02\0\0\0\x01x", 6, &total,
					    &chunk, &chunk_size, &error) < 0);
	test_assert(kpop_mech_initial_parse((const unsigned char *)
					    "\x01\0\0\0\0", 5, &total,
					    &chunk, &chunk_size, &error) < 0);
	test_assert(kpop_mech_initial_parse((const unsigned char *)
					    "\x01\0\0\0\x01xy", 7, &total,
					    &chunk, &chunk_size, &error) < 0);
	test_assert(kpop_mech_initial_parse((const unsigned char *)
					    "\x01\0\x01\0\x01x", 6, &total,
					    &chunk, &chunk_size, &error) < 0);
	test_end();

	test_begin("KPOP mechanism: rejection");
	buffer_set_used_size(buf, 0);
	kpop_mech_rejected_append(buf, "Clock skew too great", "\x7e\x01", 2);
	test_assert(((const unsigned char *)buf->data)[0] ==
		    KPOP_MECH_CHALLENGE_REJECTED);
	test_assert(kpop_mech_rejected_parse(CONST_PTR_OFFSET(buf->data, 1),
					     buf->used - 1, &reason,
					     &krb_error, &krb_error_size) == 0);
	test_assert_strcmp(reason, "Clock skew too great");
	test_assert(krb_error_size == 2 &&
		    memcmp(krb_error, "\x7e\x01", 2) == 0);

	buffer_set_used_size(buf, 0);
	long_reason = t_malloc0(1001);
	memset(long_reason, 'x', 1000);
	kpop_mech_rejected_append(buf, long_reason, "", 0);
	test_assert(kpop_mech_rejected_parse(CONST_PTR_OFFSET(buf->data, 1),
					     buf->used - 1, &reason,
					     &krb_error, &krb_error_size) == 0);
	test_assert(strlen(reason) == KPOP_MECH_MAX_REASON_LEN);
	test_assert(krb_error_size == 0);

	test_assert(kpop_mech_rejected_parse((const unsigned char *)"\0", 1,
					     &reason, &krb_error,
					     &krb_error_size) < 0);
	test_assert(kpop_mech_rejected_parse((const unsigned char *)"\0\x05" "ab",
					     4, &reason, &krb_error,
					     &krb_error_size) < 0);
	test_assert(kpop_mech_rejected_parse((const unsigned char *)"\0\x02" "a\0",
					     4, &reason, &krb_error,
					     &krb_error_size) < 0);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_kpop_mech_messages,
		NULL
	};
	return test_run(test_functions);
}
