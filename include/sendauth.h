/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef SENDAUTH_H
#define SENDAUTH_H

#include "kpop-limits.h"

/* The client <-> altpop-login wire: the framing of the Kerberos V5
   "sendauth" exchange as KPOP clients speak it (krb5_sendauth() and
   compatible code). The messages between altpop-login and the private KPOP
   authentication mechanism are in kpop-mech-msg.h.

   Pure functions: no I/O, no Kerberos library. The login process feeds
   bytes as they arrive; nothing is ever allocated for a length the peer
   merely claims.

   Client -> server, right after connecting:
     <4-byte big-endian length> "KRB5_SENDAUTH_V1.0\0"
     <4-byte big-endian length> "KPOPV1.0\0"
   Server -> client: one byte, see enum sendauth_verdict.
   Client -> server: <4-byte big-endian length> AP-REQ
   Server -> client: 00000000 (accepted) or <length> KRB-ERROR,
                     then <length> AP-REP when mutual authentication was
                     requested, then the POP3 greeting. */

/* Exact version strings (the NUL is part of the message on the wire). */
#define SENDAUTH_VERSION "KRB5_SENDAUTH_V1.0"
#define KPOP_APPL_VERSION "KPOPV1.0"
/* Kerberos IV's krb_sendauth() opens with "AUTHV0.1" instead of a length. */
#define SENDAUTH_KRB4_MAGIC "AUTH"

/* Size of a length prefix. */
#define SENDAUTH_LENGTH_SIZE 4
/* A version message longer than this is not sendauth. */
#define SENDAUTH_MAX_VERSION_LEN 64

/* The one-byte answer to the two version messages. */
enum sendauth_verdict {
	SENDAUTH_VERDICT_OK = 0,
	SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION = 1,
	SENDAUTH_VERDICT_BAD_APPL_VERSION = 2,
};

enum sendauth_state {
	SENDAUTH_STATE_SENDAUTH_VERSION = 0,
	SENDAUTH_STATE_APPL_VERSION,
	/* both versions read: the caller answers the verdict byte */
	SENDAUTH_STATE_VERDICT,
	SENDAUTH_STATE_AP_REQ,
	SENDAUTH_STATE_DONE,
	SENDAUTH_STATE_FAILED,
};

enum sendauth_result {
	/* all data consumed, more is needed */
	SENDAUTH_RESULT_MORE = 0,
	/* both version messages are read: see verdict (state VERDICT);
	   call sendauth_parser_verdict_sent() before feeding more */
	SENDAUTH_RESULT_VERSIONS,
	/* the AP-REQ is complete (state DONE). Bytes after it were not
	   consumed: they are pipelined POP3 commands. */
	SENDAUTH_RESULT_AP_REQ,
	/* protocol error, see error (state FAILED) */
	SENDAUTH_RESULT_ERROR,
};

enum sendauth_error {
	SENDAUTH_ERROR_NONE = 0,
	/* "AUTH" instead of a length: a Kerberos IV client */
	SENDAUTH_ERROR_KRB4,
	/* a version message longer than SENDAUTH_MAX_VERSION_LEN */
	SENDAUTH_ERROR_VERSION_TOO_LONG,
	/* AP-REQ length 0 */
	SENDAUTH_ERROR_AP_REQ_EMPTY,
	/* AP-REQ length over the limit */
	SENDAUTH_ERROR_AP_REQ_TOO_LARGE,
	/* the versions were refused, no more input is accepted */
	SENDAUTH_ERROR_REFUSED,
};

struct sendauth_parser {
	enum sendauth_state state;
	enum sendauth_verdict verdict;
	enum sendauth_error error;

	size_t max_ap_req_size;

	unsigned char length_buf[SENDAUTH_LENGTH_SIZE];
	unsigned int length_pos;
	bool have_length;
	/* length of the current message (as claimed by the peer) */
	uint32_t msg_length;

	/* the current version message */
	unsigned char version_buf[SENDAUTH_MAX_VERSION_LEN];
	size_t version_pos;
	/* the versions the peer sent, printable (for logs) */
	char sendauth_version[SENDAUTH_MAX_VERSION_LEN * 4 + 1];
	char appl_version[SENDAUTH_MAX_VERSION_LEN * 4 + 1];

	/* the AP-REQ, grown as bytes arrive */
	buffer_t *ap_req;
};

/* max_ap_req_size 0 means KPOP_MAX_AP_REQ_SIZE. The AP-REQ buffer is
   allocated from pool. */
void sendauth_parser_init(struct sendauth_parser *parser, pool_t pool,
			  size_t max_ap_req_size);
/* Wipes the AP-REQ. */
void sendauth_parser_deinit(struct sendauth_parser *parser);

/* Feed data. *consumed_r tells how much was used; the parser stops right
   after an event, so call again with the rest. */
enum sendauth_result
sendauth_parser_feed(struct sendauth_parser *parser,
		     const unsigned char *data, size_t size,
		     size_t *consumed_r);
/* After SENDAUTH_RESULT_VERSIONS: the verdict byte was sent. With a bad
   verdict the parser refuses everything afterwards. */
void sendauth_parser_verdict_sent(struct sendauth_parser *parser);

/* How many bytes of the current message (or its length) are still
   missing; for log lines about timeouts and early disconnects. */
const char *sendauth_parser_describe_state(const struct sendauth_parser *parser);

/* Text for an error, for log lines. */
const char *sendauth_error_str(const struct sendauth_parser *parser);

/* Append a length-prefixed message. */
void sendauth_frame_append(buffer_t *dest, const void *data, size_t size);
/* Append the "accepted" answer to an AP-REQ: a zero length. */
void sendauth_accepted_append(buffer_t *dest);

/* Printable, bounded form of a version string from the wire (a trailing NUL
   is dropped, other bytes outside 0x20..0x7e are escaped as \xNN). dest
   must have room for size*4+1 bytes. */
void sendauth_printable(char *dest, const unsigned char *data, size_t size);

#endif
