/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_MECH_MSG_H
#define KPOP_MECH_MSG_H

#include "kpop-limits.h"

/*
 * The messages of the private KPOP mechanism (login process <-> auth
 * process). Pure functions, no I/O.
 *
 * Initial response: KPOP_MECH_VERSION, the 4-byte big-endian total AP-REQ
 * size, then the first (at most KPOP_MECH_CHUNK_SIZE) bytes of the AP-REQ.
 * The mechanism answers with a challenge whose first byte says what it is:
 *   'M'          send the next chunk of the AP-REQ as the response
 *   'A' [AP-REP] ticket accepted; the AP-REP is empty without mutual
 *                authentication. The response is the POP3 USER name.
 *   'E' <2-byte big-endian reason length> <reason> <KRB-ERROR>
 *                ticket rejected. The response is empty; the failure is
 *                the answer to it.
 * Dovecot's auth protocol lines are at most 16 kB (base64), which is why
 * large AP-REQs are sent in chunks.
 */
#define KPOP_MECH_NAME "KPOP"
#define KPOP_MECH_VERSION 1
#define KPOP_MECH_CHUNK_SIZE 8192
#define KPOP_MECH_INITIAL_HEADER_SIZE 5
/* Longest reason text in an 'E' challenge. */
#define KPOP_MECH_MAX_REASON_LEN 512

#define KPOP_MECH_CHALLENGE_MORE 'M'
#define KPOP_MECH_CHALLENGE_ACCEPTED 'A'
#define KPOP_MECH_CHALLENGE_REJECTED 'E'

/* Append the initial response for ap_req; returns how many AP-REQ bytes it
   carries. */
size_t kpop_mech_initial_append(buffer_t *dest, const unsigned char *ap_req,
				size_t ap_req_size);
/* Parse an initial response. Returns 0, or -1 with *error_r. */
int kpop_mech_initial_parse(const unsigned char *data, size_t size,
			    uint32_t *total_size_r,
			    const unsigned char **chunk_r, size_t *chunk_size_r,
			    const char **error_r);

/* Append an 'E' challenge. The reason is cut at KPOP_MECH_MAX_REASON_LEN. */
void kpop_mech_rejected_append(buffer_t *dest, const char *reason,
			       const void *krb_error, size_t krb_error_size);
/* Parse an 'E' challenge (data starts after the 'E'). The reason is
   allocated from the data stack. Returns 0, or -1 if malformed. */
int kpop_mech_rejected_parse(const unsigned char *data, size_t size,
			     const char **reason_r,
			     const unsigned char **krb_error_r,
			     size_t *krb_error_size_r);

#endif
