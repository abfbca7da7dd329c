/* The pre-auth command table of altpop-login and its line reader. */

#include "login-common.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "strnum.h"
#include "pop3-line.h"
#include "pop3-line-reader.h"
#include "altpop-login.h"

/* Longest command name we wait for before calling the line bad. */
#define LOGIN_MAX_CMD_NAME_LEN 16

struct login_command {
	const char *name;
	/* ordinary commands get their whole argument line */
	bool (*func)(struct altpop_login_client *client, const char *args);
	/* AUTH reads its own (possibly long) line: <0 destroyed, 0 wait for
	   input or authentication started, >0 done */
	int (*raw_func)(struct altpop_login_client *client);
};

static bool cmd_stls(struct altpop_login_client *client,
		     const char *args ATTR_UNUSED)
{
	client_cmd_starttls(&client->common);
	return TRUE;
}

static bool cmd_quit(struct altpop_login_client *client,
		     const char *args ATTR_UNUSED)
{
	altpop_login_reply(&client->common, ALTPOP_REPLY_OK, "Logging out");
	client_destroy(&client->common, CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
	return TRUE;
}

static bool cmd_xclient(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	const char *const *arg;
	bool ok = TRUE;

	if (!altpop_client_trusted(client)) {
		altpop_login_reply(client, ALTPOP_REPLY_OK,
				   "You are not from trusted IP - ignoring");
		return TRUE;
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
			if (!client_forward_decode_base64(client, value))
				ok = FALSE;
		}
	}
	if (!ok)
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Invalid parameters");
	else
		altpop_login_reply(client, ALTPOP_REPLY_OK, "Updated");
	return TRUE;
}

static const struct login_command login_commands[] = {
	{ "CAPA", altpop_cmd_capa, NULL },
	{ "USER", altpop_cmd_user, NULL },
	{ "PASS", altpop_cmd_pass, NULL },
	{ "APOP", altpop_cmd_apop, NULL },
	{ "AUTH", NULL, altpop_cmd_auth },
	{ "STLS", cmd_stls, NULL },
	{ "QUIT", cmd_quit, NULL },
	{ "XCLIENT", cmd_xclient, NULL },
};

static const struct login_command *login_command_find(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(login_commands); i++) {
		if (strcmp(login_commands[i].name, name) == 0)
			return &login_commands[i];
	}
	return NULL;
}

/* Counts a bad command; returns FALSE if the client was disconnected. */
static bool login_bad_command(struct altpop_login_client *aclient,
			      const char *error)
{
	struct client *client = &aclient->common;

	altpop_login_reply(client, ALTPOP_REPLY_ERROR, error);
	if (++client->bad_counter >= aclient->set->altpop_login_max_bad_commands) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Too many bad commands.");
		client_destroy(client, "Too many bad commands");
		return FALSE;
	}
	return TRUE;
}

static bool login_run_raw(struct altpop_login_client *aclient,
			  const struct login_command *cmd)
{
	int ret = cmd->raw_func(aclient);

	if (ret <= 0)
		return FALSE;
	/* finished without starting authentication (probe or error) */
	i_free_and_null(aclient->current_cmd);
	return TRUE;
}

bool altpop_login_input_next_cmd(struct client *client)
{
	struct altpop_login_client *aclient =
		container_of(client, struct altpop_login_client, common);
	const struct login_command *cmd;
	const unsigned char *data;
	const char *line, *name, *args, *error;
	size_t size, i;

	if (aclient->current_cmd != NULL) {
		/* AUTH waiting for the rest of its line */
		cmd = login_command_find(aclient->current_cmd);
		i_assert(cmd != NULL && cmd->raw_func != NULL);
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
	    (cmd = login_command_find(t_str_ucase(t_strndup(data, i)))) != NULL &&
	    cmd->raw_func != NULL) {
		aclient->current_cmd = i_strdup(cmd->name);
		i_stream_skip(client->input, i < size && data[i] == ' ' ? i + 1 : i);
		return login_run_raw(aclient, cmd);
	}

	/* everything else is a whole line */
	switch (pop3_line_read(client->input, &line)) {
	case POP3_LINE_READ_MORE:
	case POP3_LINE_READ_TOO_LONG:
		/* login-common's client_read() ends a client whose input
		   buffer fills up */
		return FALSE;
	case POP3_LINE_READ_BAD_BYTES:
		e_debug(client->event, "Command line with NUL or bare CR");
		return login_bad_command(aclient,
			"Invalid characters in command line.");
	case POP3_LINE_READ_OK:
		break;
	}
	if (!pop3_line_split(line, &name, &args, &error))
		return login_bad_command(aclient, error);
	cmd = login_command_find(name);
	if (cmd == NULL || cmd->func == NULL)
		return login_bad_command(aclient, "Unknown command.");
	if (strcmp(cmd->name, "PASS") == 0) {
		/* RFC 1939: PASS has one argument that may contain spaces,
		   leading ones too: it is the rest of the line after the
		   single separating space (as Dovecot's pop3-login takes it) */
		args = line + strlen(name);
		if (*args == ' ')
			args++;
	}
	if (!cmd->func(aclient, args))
		return login_bad_command(aclient, "Invalid command arguments.");
	client->bad_counter = 0;
	return TRUE;
}
