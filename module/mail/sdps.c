/* SPDX-License-Identifier: LGPL-2.1-only */
/* SDPS in the altpop process: per-user views of a host maildrop, the
   envelope delivery recorded, the Return-Path line RETR adds, and *ENV. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage.h"
#include "pop3-line.h"
#include "sdps-envelope.h"
#include "altpop-client.h"

#define SDPS_RETURN_PATH_HEADER "Return-Path"

struct mailbox_header_lookup_ctx *
altpop_sdps_headers_init(struct altpop_client *client)
{
	ARRAY_TYPE(const_string) names;
	const char *const *h, *rp = SDPS_RETURN_PATH_HEADER;

	t_array_init(&names, 8);
	array_push_back(&names, &rp);
	for (h = sdps_envelope_header_list(client->set->altpop_sdps_sender_headers);
	     *h != NULL; h++)
		array_push_back(&names, h);
	for (h = sdps_envelope_header_list(client->set->altpop_sdps_recipient_headers);
	     *h != NULL; h++)
		array_push_back(&names, h);
	array_append_zero(&names);
	return mailbox_header_lookup_init(client->mailbox, array_front(&names));
}

static int altpop_sdps_first_header(struct mail *mail, const char *setting,
				    const char **addr_r)
{
	const char *value;
	int ret;

	*addr_r = NULL;
	for (const char *const *h = sdps_envelope_header_list(setting);
	     *h != NULL; h++) {
		if ((ret = mail_get_first_header(mail, *h, &value)) < 0)
			return -1;
		if (ret > 0 && sdps_envelope_address(value, addr_r))
			return 0;
		*addr_r = NULL;
	}
	return 0;
}

int altpop_sdps_message_envelope(struct altpop_client *client,
				 struct mail *mail, bool *in_view_r,
				 struct altpop_sdps_envelope *env_r)
{
	const char *sender, *recipient, *rp;
	int ret;

	i_zero(env_r);
	if (altpop_sdps_first_header(mail, client->set->altpop_sdps_sender_headers,
				     &sender) < 0 ||
	    altpop_sdps_first_header(mail, client->set->altpop_sdps_recipient_headers,
				     &recipient) < 0)
		return -1;
	if ((ret = mail_get_first_header(mail, SDPS_RETURN_PATH_HEADER, &rp)) < 0)
		return -1;

	*in_view_r = client->sdps_user[0] == '\0' ||
		(recipient != NULL &&
		 sdps_envelope_local_part_is(recipient, client->sdps_user));
	if (!*in_view_r)
		return 0;

	env_r->sender = p_strdup(client->pool, sender == NULL ? "" : sender);
	env_r->recipient = p_strdup(client->pool,
				    recipient == NULL ? "" : recipient);
	if (ret == 0) {
		env_r->return_path_line = p_strdup_printf(client->pool,
			SDPS_RETURN_PATH_HEADER": <%s>\r\n", env_r->sender);
	}
	return 0;
}

int altpop_cmd_env(struct altpop_client *client, const char *args)
{
	const struct altpop_sdps_envelope *env;
	const char *error;
	string_t *reply;
	uoff_t num;

	if (!client->sdps) {
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_UNKNOWN_COMMAND_NAME, "*ENV");
		return -1;
	}
	/* fetchmail reads up to a "." line whatever the status: always
	   end the reply with one */
	if (pop3_args_parse_number(&args, client->messages_count, FALSE,
				   client->lang, &num, &error) < 0 || num == 0 ||
	    ALTPOP_MSGNUM_BIT_IS_SET(client->deleted_bitmask, num - 1)) {
		altpop_client_send_line(client, t_strdup_printf("-ERR %s\r\n.",
			pop3_lang_text(client->lang,
				       POP3_MSG_SDPS_NO_SUCH_MESSAGE)));
		return -1;
	}
	env = &client->sdps_envelopes[num - 1];
	reply = t_str_new(256);
	sdps_envelope_reply_append(reply, (unsigned int)num,
				   client->message_sizes[num - 1],
				   client->sdps_host, env->sender,
				   env->recipient);
	altpop_client_send_line(client, str_c(reply));
	return 1;
}
