/* SPDX-License-Identifier: LGPL-2.1-only */
/* A post-login client: I/O, timeouts, the command loop and teardown. */

#include "lib.h"
#include "array.h"
#include "ioloop.h"
#include "net.h"
#include "iostream.h"
#include "istream.h"
#include "istream-concat.h"
#include "ostream.h"
#include "iostream-rawlog.h"
#include "llist.h"
#include "str.h"
#include "process-title.h"
#include "master-service.h"
#include "mail-storage.h"
#include "mail-storage-service.h"
#include "mail-autoexpunge.h"
#include "mail-user.h"
#include "pop3-line.h"
#include "pop3-line-reader.h"
#include "altpop-compat.h"
#include "altpop-client.h"
#include "mail-glue.h"

#include <unistd.h>

struct altpop_client *altpop_clients = NULL;
unsigned int altpop_client_count = 0;

static void altpop_client_input(struct altpop_client *client);
static int altpop_client_output(struct altpop_client *client);

void altpop_refresh_proctitle(void)
{
	struct altpop_client *client = altpop_clients;
	string_t *title;

	if (client == NULL || !client->set->verbose_proctitle)
		return;
	title = t_str_new(128);
	str_append_c(title, '[');
	if (altpop_client_count == 1) {
		str_append(title, client->user->username);
		if (client->user->conn.remote_ip != NULL) {
			str_append_c(title, ' ');
			str_append(title,
				   net_ip2addr(client->user->conn.remote_ip));
		}
	} else {
		str_printfa(title, "%u connections", altpop_client_count);
	}
	str_append_c(title, ']');
	process_title_set(str_c(title));
}

static void altpop_client_commit_timeout(struct altpop_client *client)
{
	if (client->cmd != NULL || !array_is_created(&client->folders) ||
	    client->messages_count == 0)
		return;
	/* let other sessions (and delivery) see our cached data */
	(void)altpop_mailbox_commit_all(client, TRUE);
}

static void altpop_client_idle_timeout(struct altpop_client *client)
{
	if (client->cmd != NULL) {
		altpop_client_destroy(client, t_strdup_printf(
			"Client has not read server output for %ld secs",
			(long)(ioloop_time - client->last_output)));
	} else {
		altpop_client_send_msg(client, "-ERR", POP3_MSG_INACTIVITY);
		altpop_client_destroy(client, t_strdup_printf(
			"Inactivity - no input for %ld secs",
			(long)(ioloop_time - client->last_input)));
	}
}

struct altpop_client *
altpop_client_create(int fd_in, int fd_out, struct mail_user *user,
		     const struct altpop_settings *set)
{
	struct altpop_client *client;
	pool_t pool;

	net_set_nonblock(fd_in, TRUE);
	net_set_nonblock(fd_out, TRUE);

	pool = pool_alloconly_create("altpop client", 512);
	client = p_new(pool, struct altpop_client, 1);
	client->pool = pool;
	client->event = event_create(user->event);
	client->user = user;
	altpop_session_event_init(client);
	client->set = set;
	client->state = ALTPOP_STATE_AUTHORIZATION;
	altpop_expire_init(client);
	client->fd_in = fd_in;
	client->fd_out = fd_out;
	client->input = i_stream_create_fd(fd_in, ALTPOP_MAX_INBUF_SIZE);
	client->output = o_stream_create_fd(fd_out, SIZE_MAX);
	o_stream_set_no_error_handling(client->output, TRUE);
	o_stream_set_flush_callback(client->output, altpop_client_output,
				    client);
	if (set->rawlog_dir[0] != '\0') {
		(void)altpop_iostream_rawlog_create(client->event,
			set->rawlog_dir, &client->input, &client->output);
	}

	client->last_input = client->last_output = ioloop_time;
	client->to_idle = timeout_add(set->altpop_idle_timeout * 1000,
				      altpop_client_idle_timeout, client);
	client->to_commit = timeout_add(ALTPOP_COMMIT_TIMEOUT_MSECS,
					altpop_client_commit_timeout, client);

	altpop_client_count++;
	DLLIST_PREPEND(&altpop_clients, client);
	altpop_refresh_proctitle();
	return client;
}

void altpop_client_set_sdps(struct altpop_client *client, const char *user,
			    const char *host)
{
	client->sdps = TRUE;
	client->sdps_user = p_strdup(client->pool, user);
	client->sdps_host = p_strdup(client->pool, host);
}

void altpop_client_set_login_capa(struct altpop_client *client, bool user,
				  const char *const *sasl_mechs)
{
	client->capa_user = user;
	if (sasl_mechs != NULL && sasl_mechs[0] != NULL) {
		client->capa_sasl_mechs =
			(const char *const *)p_strarray_dup(client->pool,
							    sasl_mechs);
	}
}

void altpop_client_add_input(struct altpop_client *client,
			     const unsigned char *data, size_t size)
{
	struct ostream *output;

	if (size > 0) {
		/* bytes the login process read past the login command */
		struct istream *inputs[] = {
			i_stream_create_copy_from_data(data, size),
			client->input,
			NULL
		};
		client->input = i_stream_create_concat(inputs);
		i_stream_copy_fd(client->input, inputs[1]);
		i_stream_unref(&inputs[0]);
		i_stream_unref(&inputs[1]);
		i_stream_set_input_pending(client->input, TRUE);
	}
	client->io = io_add_istream(client->input, altpop_client_input, client);

	output = client->output;
	o_stream_ref(output);
	o_stream_cork(output);
	(void)altpop_client_handle_input(client);
	o_stream_uncork(output);
	o_stream_unref(&output);
}

/* The maildrop goes: \Seen changes written, the folders committed
   without deletions, the mailboxes freed, the session lock and the anvil
   session released. Once a session ended, with or without output left
   for the client to read. */
static void altpop_client_release_maildrop(struct altpop_client *client)
{
	if (client->maildrop_released)
		return;
	client->maildrop_released = TRUE;

	if (client->seen_change_count > 0 && client->mailbox != NULL)
		(void)altpop_mailbox_update(client);
	altpop_expire_session_end(client);
	if (array_is_created(&client->folders)) {
		struct altpop_folder *folder;

		/* no QUIT: keep cached data (sizes), but nothing is
		   deleted */
		(void)altpop_mailbox_commit_all(client, FALSE);
		array_foreach_modifiable(&client->folders, folder) {
			if (folder->deleted_kw != NULL)
				mailbox_keywords_unref(&folder->deleted_kw);
			/* INBOX is client->mailbox, freed below */
			if (folder->box != client->mailbox)
				mailbox_free(&folder->box);
		}
	}
	if (client->mailbox != NULL)
		mailbox_free(&client->mailbox);
	altpop_mail_glue_anvil_disconnect(client);
	altpop_session_unlock(client);
}

void altpop_client_destroy(struct altpop_client *client, const char *reason)
{
	i_assert(!client->destroyed);
	client->destroyed = TRUE;

	if (!client->disconnected) {
		if (reason == NULL) {
			reason = io_stream_get_disconnect_reason(client->input,
								 client->output);
		}
		e_info(client->event, "Disconnected: %s %s", reason,
		       altpop_logout_stats(client));
	}
	if (client->cmd != NULL) {
		/* let the running command free its state */
		i_stream_close(client->input);
		o_stream_close(client->output);
		client->cmd(client);
		i_assert(client->cmd == NULL);
	}
	/* a command the session ended under counts as it went */
	altpop_cmd_event_finish(client, 1);
	altpop_client_release_maildrop(client);

	pool_unref(&client->uidl_pool);
	i_free(client->message_sizes);
	i_free(client->msgnum_to_seq);
	i_free(client->sdps_envelopes);
	i_free(client->deleted_bitmask);
	i_free(client->seen_bitmask);
	i_free(client->retrieved_bitmask);

	io_remove(&client->io);
	timeout_remove(&client->to_idle);
	timeout_remove(&client->to_commit);
	i_stream_destroy(&client->input);
	o_stream_destroy(&client->output);
	fd_close_maybe_stdio(&client->fd_in, &client->fd_out);

	mail_user_autoexpunge(client->user);
	altpop_mail_glue_user_free(&client->user, &client->set);

	altpop_client_count--;
	DLLIST_REMOVE(&altpop_clients, client);
	event_unref(&client->event);
	pool_unref(&client->pool);

	master_service_client_connection_destroyed(master_service);
	altpop_refresh_proctitle();
}

static void altpop_client_destroy_timeout(struct altpop_client *client)
{
	altpop_client_destroy(client, NULL);
}

static int altpop_client_linger_output(struct altpop_client *client)
{
	int ret = o_stream_flush(client->output);

	if (ret == 0)
		return 0;
	/* all out, or the client went away: end now */
	o_stream_close(client->output);
	timeout_remove(&client->to_idle);
	client->to_idle = timeout_add(0, altpop_client_destroy_timeout, client);
	return 1;
}

void altpop_client_disconnect(struct altpop_client *client,
			      const char *reason)
{
	if (client->disconnected)
		return;
	client->disconnected = TRUE;
	e_info(client->event, "Disconnected: %s %s", reason,
	       altpop_logout_stats(client));

	i_stream_close(client->input);
	io_remove(&client->io);
	timeout_remove(&client->to_idle);
	if (client->cmd == NULL) {
		/* the session is over: the maildrop goes before the last
		   replies (still corked) reach the client, so a client that
		   reconnects as soon as it has QUIT's reply finds it free */
		altpop_client_release_maildrop(client);
		if (o_stream_flush(client->output) == 0) {
			/* the client has not read everything yet (commands
			   sent in one go: RETR, RETR, QUIT): write the rest as
			   it reads, and close when it is out or the client
			   stops reading */
			o_stream_set_flush_callback(client->output,
						    altpop_client_linger_output,
						    client);
			o_stream_set_flush_pending(client->output, TRUE);
			client->to_idle =
				timeout_add(ALTPOP_CLIENT_LINGER_MSECS,
					    altpop_client_destroy_timeout, client);
			return;
		}
	}
	o_stream_close(client->output);
	client->to_idle = timeout_add(0, altpop_client_destroy_timeout, client);
}

static void altpop_client_output_throttle(struct altpop_client *client)
{
	if (!ALTPOP_CLIENT_OUTPUT_FULL(client)) {
		client->last_output = ioloop_time;
	} else if (client->io != NULL) {
		/* read no more commands until the client reads our output */
		io_remove(&client->io);
		o_stream_set_flush_pending(client->output, TRUE);
	}
}

void altpop_client_send_line(struct altpop_client *client, const char *line)
{
	struct const_iovec iov[2];

	if (client->output->closed)
		return;
	iov[0].iov_base = line;
	iov[0].iov_len = strlen(line);
	iov[1].iov_base = "\r\n";
	iov[1].iov_len = 2;
	altpop_cmd_event_reply(client, line);
	o_stream_nsendv(client->output, iov, 2);
	altpop_client_output_throttle(client);
}

void altpop_client_send_linef(struct altpop_client *client,
			      const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	T_BEGIN {
		altpop_client_send_line(client, t_strdup_vprintf(fmt, args));
	} T_END;
	va_end(args);
}

void altpop_client_send_msg(struct altpop_client *client, const char *prefix,
			    enum pop3_msg msg, ...)
{
	va_list args;

	va_start(args, msg);
	T_BEGIN {
		altpop_client_send_line(client, t_strconcat(prefix, " ",
			t_strdup_vprintf(pop3_lang_text(client->lang, msg),
					 args), NULL));
	} T_END;
	va_end(args);
}

void altpop_client_send_storage_error(struct altpop_client *client)
{
	altpop_client_send_box_error(client, client->mailbox);
}

void altpop_client_send_box_error(struct altpop_client *client,
				  struct mailbox *box)
{
	enum mail_error error;
	const char *errstr;

	if (mailbox_is_inconsistent(box)) {
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_MAILBOX_INCONSISTENT);
		altpop_client_disconnect(client,
					 "Mailbox is in inconsistent state.");
		return;
	}
	errstr = mailbox_get_last_error(box, &error);
	switch (error) {
	case MAIL_ERROR_TEMP:
	case MAIL_ERROR_NOQUOTA:
	case MAIL_ERROR_INUSE:
		altpop_client_send_linef(client, "-ERR [SYS/TEMP] %s", errstr);
		break;
	default:
		altpop_client_send_linef(client, "-ERR [SYS/PERM] %s", errstr);
		break;
	}
}

bool altpop_client_handle_input(struct altpop_client *client)
{
	enum pop3_line_read_result read_ret;
	const char *line, *name, *args, *error;
	uoff_t in_offset;
	int ret;

	o_stream_cork(client->output);
	/* commands read no input: each line's bytes are the offset's move */
	in_offset = i_stream_get_absolute_offset(client->input);
	while (!client->output->closed && client->cmd == NULL &&
	       client->io != NULL &&
	       (read_ret = pop3_line_read(client->input, &line)) !=
	       POP3_LINE_READ_MORE) {
		if (read_ret == POP3_LINE_READ_TOO_LONG) {
			altpop_client_send_msg(client, "-ERR",
					       POP3_MSG_INPUT_LINE_TOO_LONG);
			o_stream_uncork(client->output);
			altpop_client_destroy(client, "Input line too long");
			return FALSE;
		}
		altpop_cmd_event_begin(client,
			read_ret == POP3_LINE_READ_OK ? line : NULL,
			i_stream_get_absolute_offset(client->input) - in_offset);
		if (read_ret == POP3_LINE_READ_BAD_BYTES) {
			altpop_client_send_msg(client, "-ERR",
					       POP3_MSG_INVALID_CHARS);
			ret = -1;
		} else if (!pop3_line_split(line, client->lang, &name, &args,
					    &error)) {
			altpop_client_send_linef(client, "-ERR %s", error);
			ret = -1;
		} else T_BEGIN {
			ret = altpop_command_execute(client, name, args);
		} T_END;
		/* a reply still being sent finishes it later */
		if (client->cmd == NULL)
			altpop_cmd_event_finish(client, ret);
		in_offset = i_stream_get_absolute_offset(client->input);

		if (ret >= 0)
			client->bad_counter = 0;
		else if (++client->bad_counter >
			 client->set->altpop_max_bad_commands) {
			altpop_client_send_msg(client, "-ERR",
					       POP3_MSG_TOO_MANY_BAD_COMMANDS);
			altpop_client_disconnect(client,
				"Too many bad commands.");
		}
	}
	if ((client->cmd != NULL || client->io == NULL) &&
	    !client->output->closed) {
		/* a long reply is running or output is full: come back
		   when the client has read some */
		o_stream_set_flush_pending(client->output, TRUE);
		client->waiting_input = TRUE;
	}
	o_stream_uncork(client->output);

	if (client->output->closed && !client->disconnected) {
		altpop_client_destroy(client, NULL);
		return FALSE;
	}
	return TRUE;
}

static void altpop_client_input(struct altpop_client *client)
{
	if (client->cmd != NULL) {
		/* finish the running command first */
		io_remove(&client->io);
		client->waiting_input = TRUE;
		return;
	}
	client->waiting_input = FALSE;
	client->last_input = ioloop_time;
	timeout_reset(client->to_idle);
	if (client->to_commit != NULL)
		timeout_reset(client->to_commit);

	/* -2 (buffer full) is the line reader's "too long" */
	if (i_stream_read(client->input) == -1) {
		altpop_client_destroy(client, NULL);
		return;
	}
	(void)altpop_client_handle_input(client);
}

static int altpop_client_output(struct altpop_client *client)
{
	if (o_stream_flush(client->output) < 0) {
		altpop_client_destroy(client, NULL);
		return 1;
	}
	client->last_output = ioloop_time;
	timeout_reset(client->to_idle);
	if (client->to_commit != NULL)
		timeout_reset(client->to_commit);

	if (client->cmd != NULL) {
		o_stream_cork(client->output);
		client->cmd(client);
		o_stream_uncork(client->output);
		if (client->cmd == NULL)
			altpop_cmd_event_finish(client, 1);
	}
	if (client->cmd == NULL) {
		if (o_stream_get_buffer_used_size(client->output) <
		    ALTPOP_OUTBUF_THROTTLE_SIZE/2 && client->io == NULL &&
		    !client->input->closed) {
			client->io = io_add_istream(client->input,
						    altpop_client_input, client);
		}
		if (client->io != NULL && client->waiting_input) {
			client->waiting_input = FALSE;
			if (!altpop_client_handle_input(client))
				return 1;
		}
	}
	return client->cmd != NULL || client->io == NULL ? 0 : 1;
}

void altpop_client_kick(struct altpop_client *client, const char *reason)
{
	mail_storage_service_io_activate_user(
		altpop_mail_user_service_user(client->user));
	if (client->cmd == NULL)
		altpop_client_send_linef(client, "-ERR [SYS/TEMP] %s.", reason);
	altpop_client_destroy(client, t_strconcat(reason, ".", NULL));
}

void altpop_clients_destroy_all(void)
{
	const char *reason = altpop_mail_glue_stop_reason();

	while (altpop_clients != NULL)
		altpop_client_kick(altpop_clients, reason);
}
