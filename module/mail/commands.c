/* SPDX-License-Identifier: LGPL-2.1-only */
/* The post-login command dispatcher: one table of {name, states, handler}
   (RFC 1939, RFC 2449). */

#include "lib.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "mail-storage.h"
#include "pop3-line.h"
#include "pop3-capa.h"
#include "expire-policy.h"
#include "altpop-compat.h"
#include "altpop-client.h"

/* Handlers return 1 on success, -1 for a bad command (counted towards
   altpop_max_bad_commands). */
typedef int altpop_cmd_func_t(struct altpop_client *client, const char *args);

struct altpop_command {
	const char *name;
	enum altpop_state states;
	altpop_cmd_func_t *func;
};

static int altpop_get_msgnum(struct altpop_client *client, const char **args,
			     bool want_more, unsigned int *msgnum_r)
{
	const char *error;
	uoff_t num;

	if (pop3_args_parse_number(args, (unsigned int)-1, want_more,
				   client->lang, &num, &error) < 0) {
		altpop_client_send_linef(client, "-ERR %s", error);
		return -1;
	}
	if (num == 0 || num > client->messages_count) {
		altpop_client_send_msg(client, "-ERR", POP3_MSG_NO_SUCH_MESSAGE,
				       (unsigned long long)num);
		return -1;
	}
	if (ALTPOP_MSGNUM_BIT_IS_SET(client->deleted_bitmask, num - 1)) {
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_MESSAGE_DELETED);
		return -1;
	}
	*msgnum_r = num - 1;
	return 0;
}

static int cmd_capa(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	string_t *str = t_str_new(256);
	enum pop3_capa_flags flags = 0;
	/* RFC 2449: after login, this user's values, without USER */
	const struct pop3_capa_policy policy = {
		.login_delay_secs = client->set->altpop_login_delay,
		.expire = expire_policy_capa(client->expire_days),
		.utf8 = client->set->altpop_utf8,
		.lang = client->set->altpop_lang,
		.reply_lang = client->lang,
	};

	if (client->sdps)
		flags |= POP3_CAPA_FLAG_SDPS;
	/* RFC 2449 section 5: what AUTHORIZATION announced stays */
	if (client->capa_user)
		flags |= POP3_CAPA_FLAG_USER;
	pop3_capa_append_reply(str, flags, client->capa_sasl_mechs, &policy);
	/* the reply already ends in CRLF */
	str_truncate(str, str_len(str) - 2);
	altpop_client_send_line(client, str_c(str));
	return 1;
}

static int cmd_noop(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	altpop_client_send_line(client, "+OK");
	return 1;
}

static int cmd_stat(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	altpop_client_send_linef(client, "+OK %u %"PRIuUOFF_T,
				 client->messages_count - client->deleted_count,
				 client->total_size - client->deleted_size);
	return 1;
}

/* LIST and UIDL without arguments: one line per undeleted message, sent
   as the output buffer drains. */
typedef void altpop_msg_line_func_t(struct altpop_client *client,
				    unsigned int msgnum, string_t *dest);

struct cmd_lines_context {
	altpop_msg_line_func_t *line_func;
	unsigned int msgnum;
};

static void cmd_lines_continue(struct altpop_client *client)
{
	struct cmd_lines_context *ctx = client->cmd_context;
	string_t *line = t_str_new(128);

	for (; ctx->msgnum < client->messages_count; ctx->msgnum++) {
		if (client->output->closed)
			break;
		if (ALTPOP_CLIENT_OUTPUT_FULL(client))
			return;
		if (ALTPOP_MSGNUM_BIT_IS_SET(client->deleted_bitmask,
					     ctx->msgnum))
			continue;
		str_truncate(line, 0);
		ctx->line_func(client, ctx->msgnum, line);
		str_append(line, "\r\n");
		o_stream_nsend(client->output, str_data(line), str_len(line));
	}
	altpop_client_send_line(client, ".");
	i_free(ctx);
	client->cmd = NULL;
}

static void cmd_lines_start(struct altpop_client *client,
			    altpop_msg_line_func_t *line_func)
{
	struct cmd_lines_context *ctx = i_new(struct cmd_lines_context, 1);

	ctx->line_func = line_func;
	client->cmd_context = ctx;
	client->cmd = cmd_lines_continue;
	cmd_lines_continue(client);
}

static void cmd_list_line(struct altpop_client *client, unsigned int msgnum,
			  string_t *dest)
{
	str_printfa(dest, "%u %"PRIuUOFF_T, msgnum + 1,
		    client->message_sizes[msgnum]);
}

static void cmd_uidl_line(struct altpop_client *client, unsigned int msgnum,
			  string_t *dest)
{
	str_printfa(dest, "%u ", msgnum + 1);
	altpop_uidl_append(client, msgnum, dest);
}

static int cmd_list(struct altpop_client *client, const char *args)
{
	unsigned int msgnum;

	if (*args == '\0') {
		altpop_client_send_msg(client, "+OK", POP3_MSG_LIST_MESSAGES,
			client->messages_count - client->deleted_count);
		cmd_lines_start(client, cmd_list_line);
		return 1;
	}
	if (altpop_get_msgnum(client, &args, FALSE, &msgnum) < 0)
		return -1;
	altpop_client_send_linef(client, "+OK %u %"PRIuUOFF_T, msgnum + 1,
				 client->message_sizes[msgnum]);
	return 1;
}

static int cmd_retr(struct altpop_client *client, const char *args)
{
	unsigned int msgnum;

	if (altpop_get_msgnum(client, &args, FALSE, &msgnum) < 0)
		return -1;
	if (client->last_seen_msn < msgnum + 1)
		client->last_seen_msn = msgnum + 1;
	client->retr_count++;
	return altpop_fetch(client, msgnum, UOFF_T_MAX, &client->retr_bytes);
}

static int cmd_top(struct altpop_client *client, const char *args)
{
	unsigned int msgnum;
	const char *error;
	uoff_t lines;

	if (altpop_get_msgnum(client, &args, TRUE, &msgnum) < 0)
		return -1;
	if (pop3_args_parse_number(&args, UOFF_T_MAX - 1, FALSE, client->lang,
				   &lines, &error) < 0) {
		altpop_client_send_linef(client, "-ERR %s", error);
		return -1;
	}
	client->top_count++;
	return altpop_fetch(client, msgnum, lines, &client->top_bytes);
}

static int cmd_dele(struct altpop_client *client, const char *args)
{
	unsigned int msgnum;

	if (altpop_get_msgnum(client, &args, FALSE, &msgnum) < 0)
		return -1;
	if (client->deleted_bitmask == NULL) {
		client->deleted_bitmask =
			i_malloc(ALTPOP_BITMASK_SIZE(client->messages_count));
	}
	ALTPOP_MSGNUM_BIT_SET(client->deleted_bitmask, msgnum);
	client->deleted_count++;
	client->deleted_size += client->message_sizes[msgnum];
	altpop_client_send_msg(client, "+OK", POP3_MSG_MARKED_DELETED);
	return 1;
}

static int cmd_rset(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	size_t bitmask_size = ALTPOP_BITMASK_SIZE(client->messages_count);

	if (client->deleted_bitmask != NULL)
		memset(client->deleted_bitmask, 0, bitmask_size);
	client->deleted_count = 0;
	client->deleted_size = 0;
	if (client->seen_bitmask != NULL)
		memset(client->seen_bitmask, 0, bitmask_size);
	client->seen_change_count = 0;
	client->last_seen_msn = 0;
	if (client->set->altpop_enable_last &&
	    !altpop_mailbox_unsee_all(client)) {
		altpop_client_send_storage_error(client);
		return 1;
	}
	altpop_client_send_line(client, "+OK");
	return 1;
}

/* RFC 1460 LAST (altpop_enable_last): the highest message number the
   client has seen */
static int cmd_last(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	if (!client->set->altpop_enable_last) {
		/* off: as if there were no such command */
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_UNKNOWN_COMMAND_NAME, "LAST");
		return -1;
	}
	altpop_client_send_linef(client, "+OK %u", client->last_seen_msn);
	return 1;
}

/* QUIT's update of the mailbox failed (RFC 1939 section 6 allows -ERR
   in the UPDATE state): say so, never +OK, and log what failed. */
static void cmd_quit_update_failed(struct altpop_client *client,
				   const char *what)
{
	enum pop3_msg msg = POP3_MSG_QUIT_UPDATE_FAILED;
	const char *error;

	if (mailbox_is_inconsistent(client->mailbox)) {
		/* its own reply and log line */
		altpop_client_send_storage_error(client);
		return;
	}
	error = mailbox_get_last_internal_error(client->mailbox, NULL);
	if (client->deleted_count == 0) {
		/* only RETR's \Seen flags: nothing the client deleted is
		   left, but LAST (and IMAP) tell the difference */
		e_error(client->event, "QUIT: %s in the mailbox failed, the "
			"retrieved messages were not marked \\Seen: %s",
			what, error);
		msg = POP3_MSG_QUIT_SEEN_FAILED;
	} else {
		e_error(client->event, "QUIT: %s in the mailbox failed, %u "
			"messages marked deleted were not removed: %s", what,
			client->deleted_count, error);
	}
	altpop_client_send_msg(client, "-ERR [SYS/TEMP]", msg);
	altpop_client_disconnect(client, "Storage error during logout.");
}

static int cmd_quit(struct altpop_client *client, const char *args ATTR_UNUSED)
{
	unsigned int left_count;
	uoff_t left_size;

	/* RFC 1939 UPDATE state: only now are DELE marks carried out */
	client->state = ALTPOP_STATE_UPDATE;
	client->quit_seen = TRUE;
	altpop_expire_quit(client);
	if (client->deleted_count > 0 || client->seen_change_count > 0) {
		if (!altpop_mailbox_update(client)) {
			cmd_quit_update_failed(client, "marking the changes");
			return 1;
		}
	}
	if (!altpop_mailbox_commit_all(client, FALSE) ||
	    !altpop_mailbox_sync_all(client)) {
		cmd_quit_update_failed(client, "committing the changes");
		return 1;
	}
	if (altpop_mailbox_expunge_check(client, &left_count, &left_size) < 0) {
		/* whether they went is unknown: claim no deletions */
		cmd_quit_update_failed(client, "checking the expunges");
		return 1;
	}
	client->update_success = TRUE;
	/* before the reply: the client may log in again at once */
	altpop_expire_session_end(client);
	if (left_count > 0) {
		/* RFC 1939 section 6: say so, and count only what went */
		e_error(client->event, "QUIT: %u of %u deleted messages were "
			"not removed from the mailbox (see the storage errors "
			"logged before this line)", left_count,
			client->deleted_count);
		client->deleted_count -= I_MIN(left_count,
					       client->deleted_count);
		client->deleted_size -= I_MIN(left_size, client->deleted_size);
		/* the cause (permissions, a full or failing disk) is the
		   server's, and the messages are there to delete again */
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_QUIT_UPDATE_FAILED);
		altpop_client_disconnect(client,
			"Logged out, some deleted messages not removed");
		return 1;
	}
	altpop_client_send_msg(client, "+OK", client->deleted_count == 0 ?
			       POP3_MSG_LOGGING_OUT :
			       POP3_MSG_LOGGING_OUT_DELETED);
	altpop_client_disconnect(client, "Logged out");
	return 1;
}

static int cmd_uidl(struct altpop_client *client, const char *args)
{
	const char *uidl;
	unsigned int msgnum = 0;
	bool single = *args != '\0';

	if (single && altpop_get_msgnum(client, &args, FALSE, &msgnum) < 0)
		return -1;
	if (!single && client->uidls == NULL && !client->uidls_streamed) {
		/* Answer at once: working out a large maildrop's UIDLs takes
		   a while, and a client may time out waiting. A failure now
		   can only end the session without the final "." (as stock
		   Dovecot does), so the client never takes a partial list. */
		altpop_client_send_line(client, "+OK");
		/* uncorking sends it now; cork again for the list */
		o_stream_uncork(client->output);
		o_stream_cork(client->output);
		if (altpop_uidls_prepare(client) < 0) {
			altpop_client_disconnect(client,
						 "UIDLs couldn't be listed");
			return 1;
		}
		cmd_lines_start(client, cmd_uidl_line);
		return 1;
	}
	if (single) {
		if (altpop_uidl_get(client, msgnum, &uidl) < 0) {
			altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
					       POP3_MSG_UIDLS_FAILED);
			altpop_client_disconnect(client,
						 "UIDLs couldn't be listed");
			return 1;
		}
		altpop_client_send_linef(client, "+OK %u %s", msgnum + 1, uidl);
		return 1;
	}
	/* listed before: the list is kept */
	altpop_client_send_line(client, "+OK");
	cmd_lines_start(client, cmd_uidl_line);
	return 1;
}

/* RFC 6856 LANG in the TRANSACTION state (altpop_lang) */
static int cmd_lang(struct altpop_client *client, const char *args)
{
	string_t *str;

	if (!client->set->altpop_lang) {
		/* off: as if there were no such command */
		altpop_cmd_event_command(client, ALTPOP_CMD_EVENT_UNKNOWN,
					 FALSE);
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_UNKNOWN_COMMAND_NAME, "LANG");
		return -1;
	}
	str = t_str_new(128);
	pop3_lang_command(args, &client->lang, str);
	/* altpop_client_send_line() adds the last CRLF */
	str_truncate(str, str_len(str) - 2);
	altpop_client_send_line(client, str_c(str));
	return 1;
}

static int cmd_not_now(struct altpop_client *client,
		       const char *args ATTR_UNUSED)
{
	altpop_client_send_msg(client, "-ERR", POP3_MSG_ALREADY_LOGGED_IN);
	return -1;
}

/* Commands run only in the TRANSACTION state: the client is created in
   AUTHORIZATION but enters TRANSACTION before its first command. */
#define TRANS ALTPOP_STATE_TRANSACTION

static const struct altpop_command altpop_commands[] = {
	{ "CAPA", TRANS, cmd_capa },
	{ "DELE", TRANS, cmd_dele },
	{ "LIST", TRANS, cmd_list },
	{ "NOOP", TRANS, cmd_noop },
	{ "QUIT", TRANS, cmd_quit },
	{ "RETR", TRANS, cmd_retr },
	{ "RSET", TRANS, cmd_rset },
	{ "STAT", TRANS, cmd_stat },
	{ "TOP",  TRANS, cmd_top },
	{ "UIDL", TRANS, cmd_uidl },
	/* RFC 6856 */
	{ "LANG", TRANS, cmd_lang },
	/* RFC 1460 (obsolete), with altpop_enable_last */
	{ "LAST", TRANS, cmd_last },
	/* SDPS */
	{ "*ENV", TRANS, altpop_cmd_env },
	/* no state: AUTHORIZATION-state commands, which belong to
	   altpop-login */
	{ "USER", 0, cmd_not_now },
	{ "PASS", 0, cmd_not_now },
	{ "APOP", 0, cmd_not_now },
	{ "AUTH", 0, cmd_not_now },
	{ "STLS", 0, cmd_not_now },
};

int altpop_command_execute(struct altpop_client *client, const char *name,
			   const char *args)
{
	const struct altpop_command *cmd = NULL;

	for (unsigned int i = 0; i < N_ELEMENTS(altpop_commands); i++) {
		if (strcmp(altpop_commands[i].name, name) == 0) {
			cmd = &altpop_commands[i];
			break;
		}
	}
	if (cmd == NULL) {
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_UNKNOWN_COMMAND_NAME, name);
		return -1;
	}
	/* the login commands' arguments may be credentials */
	altpop_cmd_event_command(client, cmd->name, cmd->states == 0);
	if (cmd->states == 0)
		return cmd->func(client, args);
	if ((cmd->states & client->state) == 0) {
		altpop_client_send_msg(client, "-ERR",
				       POP3_MSG_COMMAND_NOT_IN_STATE, name);
		return -1;
	}
	return cmd->func(client, args);
}
