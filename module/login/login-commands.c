/* SPDX-License-Identifier: LGPL-2.1-only */
/* The pre-auth commands of altpop-login (the table itself is in
   login-cmd-table.c) and the plain listeners' command loop. */

#include "login-common.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "strnum.h"
#include "pop3-line-reader.h"
#include "login-cmd-table.h"
#include "altpop-login.h"

/* Longest command name we wait for before calling the line bad. */
#define LOGIN_MAX_CMD_NAME_LEN 16

/* What runs a command of the table (login-cmd-table.c). */
struct login_command_run {
	/* 1: done, read the next command; 0: handle no more input now
	   (authentication started, STLS started, client destroyed) */
	int (*func)(struct altpop_login_client *client, const char *args);
	/* LOGIN_CMD_ARGS_RAW: <0 destroyed, 0 wait for input or
	   authentication started, >0 done */
	int (*raw_func)(struct altpop_login_client *client);
};

static int cmd_stls(struct altpop_login_client *client,
		    const char *args ATTR_UNUSED)
{
	client_cmd_starttls(&client->common);
	return 1;
}

/* STLS on the KPOP port: the client may go on after a refusal */
static int cmd_kpop_stls(struct altpop_login_client *client,
			 const char *args ATTR_UNUSED)
{
	bool starting = client_is_tls_enabled(&client->common) &&
		!altpop_client_tls(&client->common);

	/* the TLS stream drops plaintext pipelined behind STLS */
	client_cmd_starttls(&client->common);
	return starting ? 0 : 1;
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
	const char *const *arg;
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
	} else {
		altpop_login_reply(client, ALTPOP_REPLY_OK,
			altpop_login_text(aclient, POP3_MSG_XCLIENT_UPDATED));
	}
	return 1;
}

/* Every command of the table that this file runs; KPOP's USER, PASS and
   QUIT are decided by kpop-fsm.c, refused ones have no function. */
static const struct login_command_run login_command_runs[LOGIN_CMD_COUNT] = {
	[LOGIN_CMD_CAPA] = { altpop_cmd_capa, NULL },
	[LOGIN_CMD_USER] = { altpop_cmd_user, NULL },
	[LOGIN_CMD_PASS] = { altpop_cmd_pass, NULL },
	[LOGIN_CMD_APOP] = { altpop_cmd_apop, NULL },
	[LOGIN_CMD_AUTH] = { NULL, altpop_cmd_auth },
	[LOGIN_CMD_STLS] = { cmd_stls, NULL },
	[LOGIN_CMD_QUIT] = { cmd_quit, NULL },
	[LOGIN_CMD_XCLIENT] = { cmd_xclient, NULL },
	[LOGIN_CMD_UTF8] = { altpop_cmd_utf8, NULL },
	[LOGIN_CMD_LANG] = { altpop_cmd_lang, NULL },
	[LOGIN_CMD_KPOP_STLS] = { cmd_kpop_stls, NULL },
};

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

bool altpop_login_run_command(struct altpop_login_client *aclient,
			      const struct login_command_def *cmd,
			      const char *args)
{
	int ret;

	i_assert(login_command_runs[cmd->id].func != NULL);
	ret = login_command_runs[cmd->id].func(aclient, args);
	/* one rule in every state: a command the table ran ends the run of
	   bad commands */
	if (ret > 0)
		aclient->common.bad_counter = 0;
	return ret > 0;
}

static bool login_run_raw(struct altpop_login_client *aclient,
			  const struct login_command_def *cmd)
{
	int ret;

	i_assert(login_command_runs[cmd->id].raw_func != NULL);
	ret = login_command_runs[cmd->id].raw_func(aclient);
	if (ret <= 0)
		return FALSE;
	/* finished without starting authentication (probe or error) */
	i_free_and_null(aclient->current_cmd);
	return TRUE;
}

static bool login_command_run_line(struct altpop_login_client *aclient)
{
	struct client *client = &aclient->common;
	const struct login_command_def *cmd;
	enum pop3_line_read_result read_result;
	const char *line, *args, *error;

	read_result = pop3_line_read(client->input, &line);
	switch (login_cmd_line_step(LOGIN_CMD_STATE_PLAIN, aclient->lang,
				    read_result, line, &cmd, &args, &error)) {
	case LOGIN_CMD_STEP_MORE:
		/* login-common's client_read() ends a client whose input
		   buffer fills up */
		return FALSE;
	case LOGIN_CMD_STEP_BAD:
		if (read_result == POP3_LINE_READ_BAD_BYTES)
			e_debug(client->event, "Command line with NUL or bare CR");
		return altpop_login_bad_command(aclient, error);
	case LOGIN_CMD_STEP_RUN:
		break;
	}
	return altpop_login_run_command(aclient, cmd, args);
}

bool altpop_login_input_next_cmd(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const struct login_command_def *cmd;
	const unsigned char *data;
	size_t size, i;

	if (aclient->current_cmd != NULL) {
		/* AUTH waiting for the rest of its line */
		cmd = login_cmd_find(aclient->current_cmd,
				     LOGIN_CMD_STATE_PLAIN);
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
	    (cmd = login_cmd_find(t_str_ucase(t_strndup(data, i)),
				  LOGIN_CMD_STATE_PLAIN)) != NULL &&
	    cmd->args == LOGIN_CMD_ARGS_RAW) {
		aclient->current_cmd = i_strdup(cmd->name);
		i_stream_skip(client->input, i < size && data[i] == ' ' ? i + 1 : i);
		return login_run_raw(aclient, cmd);
	}
	/* everything else is a whole line */
	return login_command_run_line(aclient);
}
