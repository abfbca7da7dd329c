/* SPDX-License-Identifier: LGPL-2.1-only */
/* The pre-auth commands of altpop-login, its one command table and the
   command loop that uses it (the KPOP port's commands after the ticket are
   kpop-fsm.c's). */

#include "login-common.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "strnum.h"
#include "pop3-line-reader.h"
#include "login-cmd-table.h"
#include "altpop-login.h"
#include "login-glue.h"

/* Longest command name we wait for before calling the line bad. */
#define LOGIN_MAX_CMD_NAME_LEN 16

/* One entry of the command table. */
struct login_command {
	const char *name;
	/* LOGIN_CMD_ARGS_SPLIT, _REST: 1: done, read the next command;
	   0: handle no more input now (authentication started, STLS
	   started, client destroyed) */
	int (*func)(struct altpop_login_client *client, const char *args);
	/* LOGIN_CMD_ARGS_RAW: <0 destroyed, 0 wait for input or
	   authentication started, >0 done */
	int (*raw_func)(struct altpop_login_client *client);
	enum login_cmd_args args;
};

static int cmd_stls(struct altpop_login_client *client,
		    const char *args ATTR_UNUSED)
{
	client_cmd_starttls(&client->common);
	return 1;
}

static int cmd_quit(struct altpop_login_client *client,
		    const char *args ATTR_UNUSED)
{
	altpop_login_reply(&client->common, ALTPOP_REPLY_OK,
			   altpop_login_text(client, POP3_MSG_LOGIN_LOGGING_OUT));
	client_destroy(&client->common, CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
	return 1;
}

bool altpop_login_forward_unsupported(struct client *client)
{
	static bool logged = FALSE;

	/* once per process: every trusted front sends it */
	if (!logged) {
		e_warning(client->event,
			  "XCLIENT FORWARD ignored: this Dovecot's login "
			  "process cannot decode forwarded fields safely "
			  "(client_forward_decode_base64 is missing), so no "
			  "forward_* passdb fields are set; use Dovecot 2.4 "
			  "or a 2.3 with the XCLIENT FORWARD fix");
		logged = TRUE;
	}
	return TRUE;
}

static int cmd_xclient(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	const char *const *arg, *error;
	bool ok = TRUE;

	if (!altpop_client_trusted(client)) {
		altpop_login_reply(client, ALTPOP_REPLY_OK, altpop_login_text(
			aclient, POP3_MSG_XCLIENT_UNTRUSTED));
		return 1;
	}
	for (arg = t_strsplit_spaces(args, " "); *arg != NULL; arg++) {
		const char *value = strchr(*arg, '=');
		if (value == NULL)
			continue;
		const char *key = t_strdup_until(*arg, value++);
		if (strcasecmp(key, "ADDR") == 0) {
			if (net_addr2ip(value, &client->ip) < 0)
				ok = FALSE;
		} else if (strcasecmp(key, "PORT") == 0) {
			if (net_str2port(value, &client->remote_port) < 0)
				ok = FALSE;
		} else if (strcasecmp(key, "DESTADDR") == 0) {
			/* where the client connected to the front */
			if (net_addr2ip(value, &client->local_ip) < 0)
				ok = FALSE;
		} else if (strcasecmp(key, "DESTPORT") == 0) {
			if (net_str2port(value, &client->local_port) < 0)
				ok = FALSE;
		} else if (strcasecmp(key, "SESSION") == 0) {
			if (strlen(value) <= LOGIN_MAX_SESSION_ID_LEN) {
				client->session_id =
					p_strdup(client->pool, value);
			}
		} else if (strcasecmp(key, "TTL") == 0) {
			if (str_to_uint(value, &client->proxy_ttl) < 0)
				ok = FALSE;
		} else if (strcasecmp(key, "FORWARD") == 0) {
			/* login-common decodes and namespaces them
			   (passdb sees forward_* fields only) */
			if (!altpop_client_forward_decode(client, value))
				ok = FALSE;
		}
	}
	if (!ok) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
			altpop_login_text(aclient, POP3_MSG_XCLIENT_INVALID));
		return 1;
	}
	/* the log fields, and where the Dovecot can, the settings of the
	   new addresses (local { } and remote { } filters) */
	if (altpop_client_addresses_changed(client, &error) < 0) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
			altpop_login_text(aclient,
					  POP3_MSG_XCLIENT_RELOAD_FAILED));
		client_destroy(client, error);
		return 0;
	}
	altpop_login_reply(client, ALTPOP_REPLY_OK,
		altpop_login_text(aclient, POP3_MSG_XCLIENT_UPDATED));
	return 1;
}

#define SPLIT LOGIN_CMD_ARGS_SPLIT
static const struct login_command login_commands[] = {
	{ "CAPA", altpop_cmd_capa, NULL, SPLIT },
	{ "USER", altpop_cmd_user, NULL, SPLIT },
	{ "PASS", altpop_cmd_pass, NULL, LOGIN_CMD_ARGS_REST },
	{ "APOP", altpop_cmd_apop, NULL, SPLIT },
	{ "AUTH", NULL, altpop_cmd_auth, LOGIN_CMD_ARGS_RAW },
	{ "STLS", cmd_stls, NULL, SPLIT },
	{ "QUIT", cmd_quit, NULL, SPLIT },
	{ "XCLIENT", cmd_xclient, NULL, SPLIT },
	{ "UTF8", altpop_cmd_utf8, NULL, SPLIT },
	{ "LANG", altpop_cmd_lang, NULL, SPLIT },
};
#undef SPLIT

static const struct login_command *login_command_find(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(login_commands); i++) {
		if (strcmp(login_commands[i].name, name) == 0)
			return &login_commands[i];
	}
	return NULL;
}

bool altpop_login_bad_command(struct altpop_login_client *aclient,
			      const char *error)
{
	struct client *client = &aclient->common;

	altpop_login_reply(client, ALTPOP_REPLY_ERROR, error);
	if (login_cmd_count_bad(&client->bad_counter,
				aclient->set->altpop_login_max_bad_commands)) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
			altpop_login_text(aclient,
					  POP3_MSG_TOO_MANY_BAD_COMMANDS));
		client_destroy(client, "Too many bad commands");
		return FALSE;
	}
	return TRUE;
}

bool altpop_login_command_done(struct altpop_login_client *aclient, int ret)
{
	/* one rule in every state: a command that ran ends the run of bad
	   commands */
	if (ret > 0)
		aclient->common.bad_counter = 0;
	return ret > 0;
}

static bool login_run_raw(struct altpop_login_client *aclient,
			  const struct login_command *cmd)
{
	int ret;

	i_assert(cmd->raw_func != NULL);
	ret = cmd->raw_func(aclient);
	if (ret <= 0)
		return FALSE;
	/* finished without starting authentication (probe or error) */
	i_free_and_null(aclient->current_cmd);
	return TRUE;
}

static bool login_command_run_line(struct altpop_login_client *aclient)
{
	struct client *client = &aclient->common;
	const struct login_command *cmd;
	enum pop3_line_read_result read_result;
	const char *line, *name, *args, *error;

	read_result = pop3_line_read(client->input, &line);
	switch (login_cmd_line_step(aclient->lang, read_result, line,
				    &name, &args, &error)) {
	case LOGIN_CMD_STEP_MORE:
		/* login-common's client_read() ends a client whose input
		   buffer fills up */
		return FALSE;
	case LOGIN_CMD_STEP_BAD:
		if (read_result == POP3_LINE_READ_BAD_BYTES)
			e_debug(client->event, "Command line with NUL or bare CR");
		return altpop_login_bad_command(aclient, error);
	case LOGIN_CMD_STEP_COMMAND:
		break;
	}
	cmd = login_command_find(name);
	if (cmd == NULL || cmd->args == LOGIN_CMD_ARGS_RAW) {
		/* a raw command is taken before its line is read (see
		   altpop_login_input_next_cmd()); a line that gets here with
		   its name is none of it */
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UNKNOWN_COMMAND));
	}
	if (cmd->args == LOGIN_CMD_ARGS_REST)
		args = login_cmd_args_rest(line, name);
	return altpop_login_command_done(aclient, cmd->func(aclient, args));
}

bool altpop_login_input_next_cmd(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const struct login_command *cmd;
	const unsigned char *data;
	size_t size, i;

	if (aclient->current_cmd != NULL) {
		/* AUTH waiting for the rest of its line */
		cmd = login_command_find(aclient->current_cmd);
		i_assert(cmd != NULL && cmd->args == LOGIN_CMD_ARGS_RAW);
		return login_run_raw(aclient, cmd);
	}

	data = i_stream_get_data(client->input, &size);
	for (i = 0; i < size; i++) {
		if (data[i] == ' ' || data[i] == '\r' || data[i] == '\n' ||
		    data[i] == '\0')
			break;
	}
	if (i == size && i <= LOGIN_MAX_CMD_NAME_LEN)
		return FALSE;
	if (i > 0 && i <= LOGIN_MAX_CMD_NAME_LEN &&
	    (cmd = login_command_find(
			t_str_ucase(t_strndup(data, i)))) != NULL &&
	    cmd->args == LOGIN_CMD_ARGS_RAW) {
		aclient->current_cmd = i_strdup(cmd->name);
		i_stream_skip(client->input, i < size && data[i] == ' ' ? i + 1 : i);
		return login_run_raw(aclient, cmd);
	}
	/* everything else is a whole line */
	return login_command_run_line(aclient);
}
