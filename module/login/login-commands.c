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

/* The states a pre-login command may be allowed in. */
enum login_cmd_state {
	/* before login on an ordinary listener (also after STLS) */
	LOGIN_CMD_STATE_PLAIN = 0x01,
	/* on a KPOP listener after the ticket was accepted */
	LOGIN_CMD_STATE_KPOP = 0x02,
};

/* How a command takes its arguments. */
enum login_cmd_args {
	/* the rest of the line after the name, leading spaces skipped */
	LOGIN_CMD_ARGS_SPLIT = 0,
	/* RFC 1939 PASS: the rest of the line after the single space that
	   ends the name; leading spaces belong to the argument (as Dovecot's
	   pop3-login takes it) */
	LOGIN_CMD_ARGS_REST,
	/* AUTH: the command reads its own (possibly long) line */
	LOGIN_CMD_ARGS_RAW,
};

struct login_command {
	const char *name;
	enum login_cmd_state states;
	enum login_cmd_args args;
	/* 1: done, read the next command; 0: handle no more input now
	   (authentication started, STLS started, client destroyed) */
	int (*func)(struct altpop_login_client *client, const char *args);
	/* LOGIN_CMD_ARGS_RAW: <0 destroyed, 0 wait for input or
	   authentication started, >0 done */
	int (*raw_func)(struct altpop_login_client *client);
	/* func == NULL: the command is refused in these states with this
	   text, counted as a bad command */
	const char *refusal;
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
	altpop_login_reply(&client->common, ALTPOP_REPLY_OK, "Logging out");
	client_destroy(&client->common, CLIENT_UNAUTHENTICATED_LOGOUT_MSG);
	return 1;
}

static int cmd_xclient(struct altpop_login_client *aclient, const char *args)
{
	struct client *client = &aclient->common;
	const char *const *arg;
	bool ok = TRUE;

	if (!altpop_client_trusted(client)) {
		altpop_login_reply(client, ALTPOP_REPLY_OK,
				   "You are not from trusted IP - ignoring");
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
			if (!client_forward_decode_base64(client, value))
				ok = FALSE;
		}
	}
	if (!ok)
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Invalid parameters");
	else
		altpop_login_reply(client, ALTPOP_REPLY_OK, "Updated");
	return 1;
}

#define KPOP_PORT_REFUSAL \
	"This is the KPOP port: you are authenticated by Kerberos, " \
	"send USER <name> and PASS."

#define PLAIN LOGIN_CMD_STATE_PLAIN
#define KPOP LOGIN_CMD_STATE_KPOP
static const struct login_command login_commands[] = {
	{ "CAPA", PLAIN | KPOP, LOGIN_CMD_ARGS_SPLIT, altpop_cmd_capa, NULL, NULL },
	{ "USER", PLAIN, LOGIN_CMD_ARGS_SPLIT, altpop_cmd_user, NULL, NULL },
	{ "PASS", PLAIN, LOGIN_CMD_ARGS_REST, altpop_cmd_pass, NULL, NULL },
	{ "APOP", PLAIN, LOGIN_CMD_ARGS_SPLIT, altpop_cmd_apop, NULL, NULL },
	{ "AUTH", PLAIN, LOGIN_CMD_ARGS_RAW, NULL, altpop_cmd_auth, NULL },
	{ "STLS", PLAIN, LOGIN_CMD_ARGS_SPLIT, cmd_stls, NULL, NULL },
	{ "QUIT", PLAIN, LOGIN_CMD_ARGS_SPLIT, cmd_quit, NULL, NULL },
	{ "XCLIENT", PLAIN, LOGIN_CMD_ARGS_SPLIT, cmd_xclient, NULL, NULL },
	{ "UTF8", PLAIN, LOGIN_CMD_ARGS_SPLIT, altpop_cmd_utf8, NULL, NULL },

	{ "USER", KPOP, LOGIN_CMD_ARGS_SPLIT, altpop_kpop_cmd_user, NULL, NULL },
	{ "PASS", KPOP, LOGIN_CMD_ARGS_SPLIT, altpop_kpop_cmd_pass, NULL, NULL },
	{ "STLS", KPOP, LOGIN_CMD_ARGS_SPLIT, altpop_kpop_cmd_stls, NULL, NULL },
	{ "QUIT", KPOP, LOGIN_CMD_ARGS_SPLIT, altpop_kpop_cmd_quit, NULL, NULL },
	{ "AUTH", KPOP, LOGIN_CMD_ARGS_SPLIT, NULL, NULL, KPOP_PORT_REFUSAL },
	{ "APOP", KPOP, LOGIN_CMD_ARGS_SPLIT, NULL, NULL, KPOP_PORT_REFUSAL },
};
#undef PLAIN
#undef KPOP

/* The answer to a command no entry allows in the state. */
static const char *login_unknown_command_text(enum login_cmd_state state)
{
	switch (state) {
	case LOGIN_CMD_STATE_PLAIN:
		return "Unknown command.";
	case LOGIN_CMD_STATE_KPOP:
		return "Unknown command: only CAPA, STLS, USER, PASS and QUIT "
			"are allowed before login on the KPOP port.";
	}
	i_unreached();
}

static const struct login_command *
login_command_find(const char *name, enum login_cmd_state state)
{
	for (unsigned int i = 0; i < N_ELEMENTS(login_commands); i++) {
		if ((login_commands[i].states & state) != 0 &&
		    strcmp(login_commands[i].name, name) == 0)
			return &login_commands[i];
	}
	return NULL;
}

bool altpop_login_bad_command(struct altpop_login_client *aclient,
			      const char *error)
{
	struct client *client = &aclient->common;

	altpop_login_reply(client, ALTPOP_REPLY_ERROR, error);
	if (++client->bad_counter >= aclient->set->altpop_login_max_bad_commands) {
		altpop_login_reply(client, ALTPOP_REPLY_ERROR,
				   "Too many bad commands.");
		client_destroy(client, aclient->kpop != NULL ?
			       "KPOP: too many bad commands" :
			       "Too many bad commands");
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

static bool login_command_run_line(struct altpop_login_client *aclient,
				   enum login_cmd_state state)
{
	struct client *client = &aclient->common;
	const struct login_command *cmd;
	const char *line, *name, *args, *error;
	int ret;

	switch (pop3_line_read(client->input, &line)) {
	case POP3_LINE_READ_MORE:
	case POP3_LINE_READ_TOO_LONG:
		/* login-common's client_read() ends a client whose input
		   buffer fills up */
		return FALSE;
	case POP3_LINE_READ_BAD_BYTES:
		e_debug(client->event, "Command line with NUL or bare CR");
		return altpop_login_bad_command(aclient,
			"Invalid characters in command line.");
	case POP3_LINE_READ_OK:
		break;
	}
	if (!pop3_line_split(line, &name, &args, &error))
		return altpop_login_bad_command(aclient, error);
	cmd = login_command_find(name, state);
	if (cmd == NULL || (cmd->func == NULL && cmd->refusal == NULL)) {
		return altpop_login_bad_command(aclient,
			login_unknown_command_text(state));
	}
	if (cmd->func == NULL)
		return altpop_login_bad_command(aclient, cmd->refusal);
	if (cmd->args == LOGIN_CMD_ARGS_REST) {
		args = line + strlen(name);
		if (*args == ' ')
			args++;
	}
	ret = cmd->func(aclient, args);
	/* one rule in every state: a command the table ran ends the run of
	   bad commands */
	if (ret > 0)
		client->bad_counter = 0;
	return ret > 0;
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
		cmd = login_command_find(aclient->current_cmd,
					 LOGIN_CMD_STATE_PLAIN);
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
	    (cmd = login_command_find(t_str_ucase(t_strndup(data, i)),
				      LOGIN_CMD_STATE_PLAIN)) != NULL &&
	    cmd->args == LOGIN_CMD_ARGS_RAW) {
		aclient->current_cmd = i_strdup(cmd->name);
		i_stream_skip(client->input, i < size && data[i] == ' ' ? i + 1 : i);
		return login_run_raw(aclient, cmd);
	}
	/* everything else is a whole line */
	return login_command_run_line(aclient, LOGIN_CMD_STATE_PLAIN);
}

bool altpop_login_kpop_next_cmd(struct altpop_login_client *aclient)
{
	return login_command_run_line(aclient, LOGIN_CMD_STATE_KPOP);
}
