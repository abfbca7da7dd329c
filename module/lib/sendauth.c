/* SPDX-License-Identifier: LGPL-2.1-only */
/* Kerberos V5 sendauth framing for KPOP (client <-> altpop-login). No I/O
   here: see include/sendauth.h. */

#include "lib.h"
#include "buffer.h"
#include "str.h"
#include "safe-memset.h"
#include "byteorder.h"
#include "sendauth.h"

void sendauth_parser_init(struct sendauth_parser *parser, pool_t pool,
			  size_t max_ap_req_size)
{
	i_zero(parser);
	parser->max_ap_req_size = max_ap_req_size != 0 ?
		max_ap_req_size : KPOP_MAX_AP_REQ_SIZE;
	/* grows as the AP-REQ arrives, never to the claimed length at once */
	parser->ap_req = buffer_create_dynamic(pool, 1024);
}

void sendauth_parser_deinit(struct sendauth_parser *parser)
{
	if (parser->ap_req != NULL) {
		safe_memset(buffer_get_modifiable_data(parser->ap_req, NULL),
			    0, parser->ap_req->used);
		buffer_free(&parser->ap_req);
	}
}

void sendauth_printable(char *dest, const unsigned char *data, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, pos = 0;

	if (size > 0 && data[size-1] == '\0')
		size--;
	for (i = 0; i < size; i++) {
		if (data[i] >= 0x20 && data[i] < 0x7f && data[i] != '\\')
			dest[pos++] = (char)data[i];
		else {
			dest[pos++] = '\\';
			dest[pos++] = 'x';
			dest[pos++] = hex[data[i] >> 4];
			dest[pos++] = hex[data[i] & 0x0f];
		}
	}
	dest[pos] = '\0';
}

static bool version_equals(const unsigned char *data, size_t size,
			   const char *expected)
{
	/* the NUL terminator is part of the message */
	return size == strlen(expected) + 1 &&
		memcmp(data, expected, size) == 0;
}

static enum sendauth_result
sendauth_fail(struct sendauth_parser *parser, enum sendauth_error error)
{
	parser->state = SENDAUTH_STATE_FAILED;
	parser->error = error;
	return SENDAUTH_RESULT_ERROR;
}

/* Read the 4-byte length. Returns FALSE if more data is needed. */
static bool
sendauth_read_length(struct sendauth_parser *parser,
		     const unsigned char *data, size_t size, size_t *pos)
{
	while (parser->length_pos < SENDAUTH_LENGTH_SIZE && *pos < size)
		parser->length_buf[parser->length_pos++] = data[(*pos)++];
	if (parser->length_pos < SENDAUTH_LENGTH_SIZE)
		return FALSE;
	parser->msg_length = be32_to_cpu_unaligned(parser->length_buf);
	parser->have_length = TRUE;
	return TRUE;
}

static void sendauth_next_message(struct sendauth_parser *parser)
{
	parser->length_pos = 0;
	parser->have_length = FALSE;
	parser->msg_length = 0;
	parser->version_pos = 0;
}

static enum sendauth_result
sendauth_feed_version(struct sendauth_parser *parser,
		      const unsigned char *data, size_t size, size_t *pos)
{
	size_t n;

	if (!parser->have_length) {
		if (!sendauth_read_length(parser, data, size, pos))
			return SENDAUTH_RESULT_MORE;
		if (parser->state == SENDAUTH_STATE_SENDAUTH_VERSION &&
		    memcmp(parser->length_buf, SENDAUTH_KRB4_MAGIC,
			   SENDAUTH_LENGTH_SIZE) == 0)
			return sendauth_fail(parser, SENDAUTH_ERROR_KRB4);
		if (parser->msg_length > SENDAUTH_MAX_VERSION_LEN)
			return sendauth_fail(parser,
					     SENDAUTH_ERROR_VERSION_TOO_LONG);
	}

	n = I_MIN(size - *pos, parser->msg_length - parser->version_pos);
	memcpy(parser->version_buf + parser->version_pos, data + *pos, n);
	parser->version_pos += n;
	*pos += n;
	if (parser->version_pos < parser->msg_length)
		return SENDAUTH_RESULT_MORE;

	if (parser->state == SENDAUTH_STATE_SENDAUTH_VERSION) {
		sendauth_printable(parser->sendauth_version,
				   parser->version_buf, parser->version_pos);
		if (!version_equals(parser->version_buf, parser->version_pos,
				    SENDAUTH_VERSION))
			parser->verdict = SENDAUTH_VERDICT_BAD_SENDAUTH_VERSION;
		parser->state = SENDAUTH_STATE_APPL_VERSION;
		sendauth_next_message(parser);
		return SENDAUTH_RESULT_MORE;
	}

	sendauth_printable(parser->appl_version,
			   parser->version_buf, parser->version_pos);
	if (parser->verdict == SENDAUTH_VERDICT_OK &&
	    !version_equals(parser->version_buf, parser->version_pos,
			    KPOP_APPL_VERSION))
		parser->verdict = SENDAUTH_VERDICT_BAD_APPL_VERSION;
	parser->state = SENDAUTH_STATE_VERDICT;
	sendauth_next_message(parser);
	return SENDAUTH_RESULT_VERSIONS;
}

static enum sendauth_result
sendauth_feed_ap_req(struct sendauth_parser *parser,
		     const unsigned char *data, size_t size, size_t *pos)
{
	size_t n;

	if (!parser->have_length) {
		if (!sendauth_read_length(parser, data, size, pos))
			return SENDAUTH_RESULT_MORE;
		if (parser->msg_length == 0)
			return sendauth_fail(parser,
					     SENDAUTH_ERROR_AP_REQ_EMPTY);
		if (parser->msg_length > parser->max_ap_req_size)
			return sendauth_fail(parser,
					     SENDAUTH_ERROR_AP_REQ_TOO_LARGE);
	}

	n = I_MIN(size - *pos, parser->msg_length - parser->ap_req->used);
	buffer_append(parser->ap_req, data + *pos, n);
	*pos += n;
	if (parser->ap_req->used < parser->msg_length)
		return SENDAUTH_RESULT_MORE;
	parser->state = SENDAUTH_STATE_DONE;
	return SENDAUTH_RESULT_AP_REQ;
}

enum sendauth_result
sendauth_parser_feed(struct sendauth_parser *parser,
		     const unsigned char *data, size_t size,
		     size_t *consumed_r)
{
	enum sendauth_result ret = SENDAUTH_RESULT_MORE;
	size_t pos = 0;

	while (ret == SENDAUTH_RESULT_MORE) {
		switch (parser->state) {
		case SENDAUTH_STATE_SENDAUTH_VERSION:
		case SENDAUTH_STATE_APPL_VERSION:
			if (pos == size)
				break;
			ret = sendauth_feed_version(parser, data, size, &pos);
			continue;
		case SENDAUTH_STATE_AP_REQ:
			if (pos == size)
				break;
			ret = sendauth_feed_ap_req(parser, data, size, &pos);
			continue;
		case SENDAUTH_STATE_VERDICT:
		case SENDAUTH_STATE_DONE:
			/* nothing is consumed until the caller moves on */
			break;
		case SENDAUTH_STATE_FAILED:
			if (parser->error == SENDAUTH_ERROR_NONE)
				parser->error = SENDAUTH_ERROR_REFUSED;
			ret = SENDAUTH_RESULT_ERROR;
			continue;
		}
		break;
	}
	*consumed_r = pos;
	return ret;
}

void sendauth_parser_verdict_sent(struct sendauth_parser *parser)
{
	i_assert(parser->state == SENDAUTH_STATE_VERDICT);

	if (parser->verdict == SENDAUTH_VERDICT_OK)
		parser->state = SENDAUTH_STATE_AP_REQ;
	else {
		parser->state = SENDAUTH_STATE_FAILED;
		parser->error = SENDAUTH_ERROR_REFUSED;
	}
}

const char *sendauth_parser_describe_state(const struct sendauth_parser *parser)
{
	const char *what;
	size_t have, want;

	switch (parser->state) {
	case SENDAUTH_STATE_SENDAUTH_VERSION:
		what = "the sendauth version";
		have = parser->version_pos;
		break;
	case SENDAUTH_STATE_APPL_VERSION:
		what = "the application version";
		have = parser->version_pos;
		break;
	case SENDAUTH_STATE_AP_REQ:
		what = "the AP-REQ";
		have = parser->ap_req->used;
		break;
	case SENDAUTH_STATE_VERDICT:
		return "after the versions";
	case SENDAUTH_STATE_DONE:
		return "after the AP-REQ";
	case SENDAUTH_STATE_FAILED:
	default:
		return "after a protocol error";
	}
	if (!parser->have_length) {
		return t_strdup_printf("reading the length of %s "
				       "(%u of %u bytes)", what,
				       parser->length_pos,
				       (unsigned int)SENDAUTH_LENGTH_SIZE);
	}
	want = parser->msg_length;
	return t_strdup_printf("reading %s (%zu of %zu bytes)",
			       what, have, want);
}

const char *sendauth_error_str(const struct sendauth_parser *parser)
{
	switch (parser->error) {
	case SENDAUTH_ERROR_NONE:
		return "no error";
	case SENDAUTH_ERROR_KRB4:
		return "Kerberos IV client (krb_sendauth \"AUTHV0.1\"): "
			"only Kerberos V5 KPOP is supported";
	case SENDAUTH_ERROR_VERSION_TOO_LONG:
		return t_strdup_printf(
			"not a sendauth client: version message length %u "
			"(limit %u)", parser->msg_length,
			(unsigned int)SENDAUTH_MAX_VERSION_LEN);
	case SENDAUTH_ERROR_AP_REQ_EMPTY:
		return "AP-REQ length is 0";
	case SENDAUTH_ERROR_AP_REQ_TOO_LARGE:
		return t_strdup_printf("AP-REQ length %u exceeds the limit "
				       "of %zu bytes", parser->msg_length,
				       parser->max_ap_req_size);
	case SENDAUTH_ERROR_REFUSED:
		return "data after a refused sendauth version";
	}
	i_unreached();
}

static void sendauth_be32_append(buffer_t *dest, uint32_t value)
{
	unsigned char b[SENDAUTH_LENGTH_SIZE];

	cpu32_to_be_unaligned(value, b);
	buffer_append(dest, b, sizeof(b));
}

void sendauth_frame_append(buffer_t *dest, const void *data, size_t size)
{
	i_assert(size <= (uint32_t)-1);

	sendauth_be32_append(dest, (uint32_t)size);
	buffer_append(dest, data, size);
}

void sendauth_accepted_append(buffer_t *dest)
{
	sendauth_be32_append(dest, 0);
}
