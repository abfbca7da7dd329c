/* SPDX-License-Identifier: LGPL-2.1-only */
/* KPOP in altpop-login: the sendauth phase. The client's two version
   messages are answered with the verdict byte, the AP-REQ is collected
   (module/lib/sendauth.c frames the bytes, kpop-fsm.c decides) and handed
   to login-kpop-auth.c. */

#include "login-common.h"
#include "istream.h"
#include "altpop-login.h"
#include "login-kpop.h"

void kpop_sendauth_input(struct kpop_client *kpop)
{
	struct client *client = kpop->client;
	const unsigned char *data;
	struct kpop_action action;
	size_t size, consumed;

	switch (i_stream_read(client->input)) {
	case -1:
		kpop_destroy(kpop, t_strdup_printf(
			"client disconnected %s",
			sendauth_parser_describe_state(&kpop->parser)));
		return;
	case -2:
		/* cannot happen: everything is consumed in this phase */
		kpop_destroy(kpop, "input buffer full");
		return;
	default:
		break;
	}

	do {
		data = i_stream_get_data(client->input, &size);
		kpop_fsm_sendauth(&kpop->parser, data, size, &consumed,
				  &action);
		i_stream_skip(client->input, consumed);
	} while (kpop_apply(kpop, &action));
}
