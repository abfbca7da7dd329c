/* SPDX-License-Identifier: LGPL-2.1-only */
/* The events of the altpop process (doc/events.md): the session's event
   (category altpop, the connection's addresses), and for every command the
   event Dovecot's pop3 sends (pop3_command_finished, with the same fields),
   so that metrics made for Dovecot's pop3 count altpop's commands too. */

#include "lib.h"
#include "net.h"
#include "istream.h"
#include "ostream.h"
#include "str-sanitize.h"
#include "mail-user.h"
#include "altpop-compat.h"
#include "altpop-client.h"

/* longest cmd_input_name / cmd_args value (longer ones are cut, ending
   in "...") */
#define ALTPOP_EVENT_MAX_ARG_LEN 512

struct event_category event_category_altpop = {
	.name = "altpop",
};

void altpop_session_event_init(struct altpop_client *client)
{
	const struct mail_user_connection_data *conn = &client->user->conn;

	event_add_category(client->event, &event_category_altpop);
	if (conn->local_ip != NULL && conn->local_ip->family != 0)
		altpop_event_add_ip(client->event, "local_ip", conn->local_ip);
	if (conn->local_port != 0)
		event_add_int(client->event, "local_port", conn->local_port);
	if (conn->remote_ip != NULL && conn->remote_ip->family != 0)
		altpop_event_add_ip(client->event, "remote_ip", conn->remote_ip);
	if (conn->remote_port != 0)
		event_add_int(client->event, "remote_port", conn->remote_port);
}

struct event *altpop_event_create(struct event *parent, const char *name)
{
	struct event *event = event_create(parent);

	event_add_category(event, &event_category_altpop);
	event_set_name(event, name);
	return event;
}

void altpop_cmd_event_begin(struct altpop_client *client, const char *line,
			    uoff_t in_bytes)
{
	struct event *event;

	i_assert(client->cmd_event == NULL);
	event = client->cmd_event = event_create(client->event);
	client->cmd_event_name = ALTPOP_CMD_EVENT_UNKNOWN;
	client->cmd_out_start = client->output->offset;
	client->cmd_reply = 0;
	event_add_int(event, "net_in_bytes", in_bytes);
	T_BEGIN {
		const char *name = "", *args = "", *p;

		if (line != NULL) {
			p = strchr(line, ' ');
			name = p == NULL ? line : t_strdup_until(line, p);
			for (args = p == NULL ? "" : p; *args == ' '; args++) ;
		}
		event_add_str(event, "cmd_input_name",
			      str_sanitize(name, ALTPOP_EVENT_MAX_ARG_LEN));
		event_add_str(event, "cmd_args",
			      str_sanitize(args, ALTPOP_EVENT_MAX_ARG_LEN));
	} T_END;
}

void altpop_cmd_event_command(struct altpop_client *client, const char *name,
			      bool args_private)
{
	if (client->cmd_event == NULL)
		return;
	client->cmd_event_name = name;
	if (args_private)
		event_add_str(client->cmd_event, "cmd_args", "");
}

void altpop_cmd_event_reply(struct altpop_client *client, const char *line)
{
	if (client->cmd_event != NULL && client->cmd_reply == 0)
		client->cmd_reply = line[0] == '-' ? -1 : 1;
}

void altpop_cmd_event_finish(struct altpop_client *client, int ret)
{
	struct event *event = client->cmd_event;
	bool ok;

	if (event == NULL)
		return;
	client->cmd_event = NULL;
	/* what the reply said; the handler's result only when nothing
	   could be sent */
	ok = client->cmd_reply != 0 ? client->cmd_reply > 0 : ret >= 0;
	event_set_name(event, "pop3_command_finished");
	event_add_str(event, "cmd_name", client->cmd_event_name);
	event_add_str(event, "reply_state", ok ? "OK" : "ERR");
	event_add_int(event, "net_out_bytes",
		      client->output->offset - client->cmd_out_start);
	e_debug(event, "Command %s finished: %s", client->cmd_event_name,
		ok ? "+OK" : "-ERR");
	event_unref(&event);
}
