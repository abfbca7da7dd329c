/* SPDX-License-Identifier: LGPL-2.1-only */
/* The logout log line (altpop_logout_format, like pop3_logout_format). */

#include "lib.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "altpop-client.h"
#include "mail-glue.h"

const char *altpop_logout_stats(struct altpop_client *client)
{
	bool deleted = client->update_success;
	const struct altpop_logout_stats stats = {
		.top_count = client->top_count,
		.top_bytes = client->top_bytes,
		.retr_count = client->retr_count,
		.retr_bytes = client->retr_bytes,
		.deleted_count = deleted ? client->deleted_count : 0,
		.deleted_bytes = deleted ? client->deleted_size : 0,
		.message_count = client->messages_count,
		.message_bytes = client->total_size,
		.input = i_stream_get_absolute_offset(client->input),
		.output = client->output->offset,
	};
	string_t *str = t_str_new(128);
	const char *error;

	event_add_int(client->event, "net_in_bytes", stats.input);
	event_add_int(client->event, "net_out_bytes", stats.output);
	if (altpop_mail_glue_logout_expand(str,
					   client->set->altpop_logout_format,
					   &stats, client->user, client->event,
					   &error) < 0) {
		e_error(client->event,
			"Failed to expand altpop_logout_format=%s: %s",
			client->set->altpop_logout_format, error);
	}
	/* RFC 2449 EXPIRE: removed at login or (EXPIRE 0) at QUIT */
	if (client->expire_days >= 0)
		str_printfa(str, ", expired=%u", client->expired_count);
	return str_c(str);
}
