/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_CLIENT_H
#define ALTPOP_CLIENT_H

#include "seq-range-array.h"
#include "altpop-settings.h"
#include "pop3-lang.h"
#include "altpop-events.h"

struct mail;
struct mail_user;
struct mail_namespace;
struct mailbox;
struct mailbox_transaction_context;
struct dotlock;
struct altpop_mail_anvil;

/* Stop reading commands while this much output is still unsent; start
   again when it drops to half. */
#define ALTPOP_OUTBUF_THROTTLE_SIZE (64*1024)
/* after the session ended (QUIT, an error), how long the output the
   client has not read yet (the tail of the last RETR, QUIT's reply) may
   take to go out before the connection is closed anyway: a 56k modem
   takes about 10 s for what the throttle lets pile up */
#define ALTPOP_CLIENT_LINGER_MSECS (60*1000)
/* Longest command line accepted after login (RFC 1939 says 255 octets of
   arguments; allow more for odd clients but never unbounded). */
#define ALTPOP_MAX_INBUF_SIZE 2048
/* Commit the open transaction when the client idles this long, so the
   mailbox is not kept locked by a sleeping client. */
#define ALTPOP_COMMIT_TIMEOUT_MSECS (10*1000)

/* RFC 1939 session states as the post-login process sees them. */
enum altpop_state {
	ALTPOP_STATE_AUTHORIZATION	= 0x01,
	ALTPOP_STATE_TRANSACTION	= 0x02,
	ALTPOP_STATE_UPDATE		= 0x04,
};

struct altpop_client;
/* A command that writes more than fits in the output buffer keeps a
   continuation; it is called again when the client has read some. */
typedef void altpop_cmd_continue_t(struct altpop_client *client);

/* SDPS envelope of a message (SDPS sessions only). */
struct altpop_sdps_envelope {
	const char *sender, *recipient;
	/* "Return-Path: <sender>" line RETR/TOP send first; NULL when the
	   stored message has a Return-Path of its own */
	const char *return_path_line;
};

/* One folder of the session's maildrop (altpop_folders; the first is
   INBOX). Its messages are the POP3 numbers first_msgnum + 1 ..
   first_msgnum + count. */
struct altpop_folder {
	struct mailbox *box;
	struct mailbox_transaction_context *trans;
	uint32_t uid_validity;
	/* the highest sequence of the folder's messages in the session */
	uint32_t highest_seq;
	unsigned int first_msgnum, count;
	/* UIDs QUIT asked the storage to expunge */
	ARRAY_TYPE(seq_range) expunged_uids;
	/* altpop_deleted_flag as this folder's keywords (NULL when not
	   set): messages that have it are not part of the session, and
	   with altpop_delete_type = flag QUIT sets it instead of
	   expunging */
	struct mail_keywords *deleted_kw;
};
ARRAY_DEFINE_TYPE(altpop_folder, struct altpop_folder);

struct altpop_client {
	struct altpop_client *prev, *next;
	pool_t pool;
	struct event *event;

	int fd_in, fd_out;
	struct io *io;
	struct istream *input;
	struct ostream *output;
	struct timeout *to_idle, *to_commit;

	enum altpop_state state;
	altpop_cmd_continue_t *cmd;
	void *cmd_context;

	struct mail_user *user;
	const struct altpop_settings *set;
	struct mail_namespace *inbox_ns;
	/* INBOX (folders[0].box): the state files and errors are its */
	struct mailbox *mailbox;
	/* the maildrop's folders: [0] is INBOX */
	ARRAY_TYPE(altpop_folder) folders;
	struct dotlock *session_dotlock;
	struct timeout *to_session_lock_refresh;
	/* set while anvil counts this session (mail-glue) */
	struct altpop_mail_anvil *anvil;

	time_t last_input, last_output;
	unsigned int bad_counter;

	/* the maildrop as it was at login */
	unsigned int messages_count;
	/* [msgnum] (the POP3 number - 1): the message's POP3 size */
	uoff_t *message_sizes;
	/* [msgnum]: the message's sequence; NULL while every message's
	   sequence is msgnum + 1 (the usual case: no SDPS view and the POP3
	   order is the sequence order), so that case costs nothing */
	uint32_t *msgnum_to_seq;
	uoff_t total_size;

	/* SDPS: the login was an SDPS name; a non-empty sdps_user shows
	   only that user's messages of the host account */
	const char *sdps_user, *sdps_host;
	/* [msgnum], SDPS sessions only */
	struct altpop_sdps_envelope *sdps_envelopes;

	/* DELE marks and RETR \Seen marks, bit per msgnum */
	unsigned char *deleted_bitmask;
	unsigned char *seen_bitmask;
	unsigned int deleted_count, seen_change_count;
	uoff_t deleted_size;
	unsigned int highest_expunged_msgnum;
	/* altpop_enable_last: RFC 1460 LAST, the highest message number
	   seen (\Seen at login, or retrieved since) */
	unsigned int last_seen_msn;

	/* UIDLs, computed once per session when first needed */
	pool_t uidl_pool;
	const char **uidls;
	/* a UIDL n was answered without working out every UIDL */
	bool uidl_single_done;
	/* UIDLs are formatted from the UID as they are sent, nothing kept
	   (uidls_stream_checked: whether that is possible was looked at) */
	bool uidls_streamed, uidls_stream_checked;

	/* what CAPA announced before login (login handoff): announced
	   after login too (RFC 2449 section 5) */
	const char *const *capa_sasl_mechs;
	/* RFC 6856 LANG: the language of the replies (chosen before login
	   it comes in the login handoff) */
	enum pop3_lang lang;

	/* RFC 2449 EXPIRE: days, or EXPIRE_POLICY_OFF/NEVER (expire.c);
	   RETR and whole-message TOP marks, bit per msgnum */
	int expire_days;
	unsigned char *retrieved_bitmask;
	unsigned int retrieved_count, expired_count;

	/* the pop3_command_finished event of the command being run
	   (events.c): the command's name, the output offset it started at,
	   whether the first line of its reply was +OK (1) or -ERR (-1) */
	struct event *cmd_event;
	const char *cmd_event_name;
	uoff_t cmd_out_start;
	int cmd_reply;
	/* EXPIRE 0: retrieved messages QUIT deletes without DELE */
	unsigned int expire_quit_count;

	/* logout statistics */
	uoff_t top_bytes, retr_bytes;
	unsigned int top_count, retr_count;

	bool destroyed:1;
	/* the mailboxes, session lock and anvil session are let go */
	bool maildrop_released:1;
	bool disconnected:1;
	bool waiting_input:1;
	bool quit_seen:1;
	bool update_success:1;
	bool sdps:1;
	bool capa_user:1;
};

#define ALTPOP_MSGNUM_BIT_IS_SET(bitmask, msgnum) \
	((bitmask) != NULL && \
	 ((bitmask)[(msgnum) / CHAR_BIT] & (1U << ((msgnum) % CHAR_BIT))) != 0)
#define ALTPOP_MSGNUM_BIT_SET(bitmask, msgnum) \
	((bitmask)[(msgnum) / CHAR_BIT] |= (1U << ((msgnum) % CHAR_BIT)))
#define ALTPOP_BITMASK_SIZE(count) (((count) + CHAR_BIT - 1) / CHAR_BIT)

#define ALTPOP_CLIENT_OUTPUT_FULL(client) \
	(o_stream_get_buffer_used_size((client)->output) >= \
	 ALTPOP_OUTBUF_THROTTLE_SIZE)

extern struct altpop_client *altpop_clients;
extern unsigned int altpop_client_count;

/* client.c */
/* The client takes over user and set (from altpop_mail_glue_user_lookup())
   and frees them when it is destroyed. */
struct altpop_client *
altpop_client_create(int fd_in, int fd_out, struct mail_user *user,
		     const struct altpop_settings *set);
void altpop_client_add_input(struct altpop_client *client,
			     const unsigned char *data, size_t size);
void altpop_client_destroy(struct altpop_client *client, const char *reason)
	ATTR_NULL(2);
void altpop_client_disconnect(struct altpop_client *client,
			      const char *reason);
/* End the session from outside (shutdown, doveadm kick): tells the client
   why unless a reply is half sent, then destroys it. */
void altpop_client_kick(struct altpop_client *client, const char *reason);
void altpop_client_send_line(struct altpop_client *client, const char *line);
void altpop_client_send_linef(struct altpop_client *client,
			      const char *fmt, ...) ATTR_FORMAT(2, 3);
/* "<prefix> <text>": prefix is "+OK", "-ERR" or "-ERR [CODE]", the text
   msg in the client's language formatted with the arguments pop3-lang.h
   names for it. */
void altpop_client_send_msg(struct altpop_client *client, const char *prefix,
			    enum pop3_msg msg, ...);
/* -ERR [SYS/TEMP] or [SYS/PERM] with the last storage error of INBOX, or
   of box */
void altpop_client_send_storage_error(struct altpop_client *client);
void altpop_client_send_box_error(struct altpop_client *client,
				  struct mailbox *box);
bool altpop_client_handle_input(struct altpop_client *client);
void altpop_clients_destroy_all(void);
void altpop_refresh_proctitle(void);

/* USER and the SASL mechanisms CAPA announced before login */
void altpop_client_set_login_capa(struct altpop_client *client, bool user,
				  const char *const *sasl_mechs);
void altpop_client_set_sdps(struct altpop_client *client, const char *user,
			    const char *host);

/* sdps.c */
/* Reads the envelope of a message into env_r; *in_view_r is FALSE if the
   message is not in this session's view. Returns 0, or -1 on a storage
   error. */
int altpop_sdps_message_envelope(struct altpop_client *client,
				 struct mail *mail, bool *in_view_r,
				 struct altpop_sdps_envelope *env_r);
struct mailbox_header_lookup_ctx *
altpop_sdps_headers_init(struct altpop_client *client);
int altpop_cmd_env(struct altpop_client *client, const char *args);

/* mailbox.c */
int altpop_mailbox_open(struct altpop_client *client, const char **error_r);
bool altpop_mailbox_update(struct altpop_client *client);
/* RSET with altpop_enable_last: \Seen removed from every message of the
   session, at once (RFC 1460) */
bool altpop_mailbox_unsee_all(struct altpop_client *client);
/* After QUIT's commit and sync: how many of the messages it expunged (and
   their POP3 size) are still in the mailbox. Storages may log a failed
   removal and still report success. Returns -1 if the check failed. */
int altpop_mailbox_expunge_check(struct altpop_client *client,
				 unsigned int *count_r, uoff_t *size_r);
/* A folder's messages with sequences 1..last_seq (0: all), less those
   altpop_deleted_flag hides. */
struct mail_search_args *
altpop_mailbox_search_build(struct altpop_client *client,
			    struct altpop_folder *folder, uint32_t last_seq);
/* INBOX, and the folder a message is in */
struct altpop_folder *altpop_inbox(struct altpop_client *client);
struct altpop_folder *
altpop_msgnum_folder(struct altpop_client *client, unsigned int msgnum);
/* Commit every folder's transaction and begin a new one; FALSE if a
   commit failed (logged by the storage) */
bool altpop_mailbox_commit_all(struct altpop_client *client, bool begin_new);
/* QUIT: every folder synced, its changes written */
bool altpop_mailbox_sync_all(struct altpop_client *client);
/* The sequence of a message in its folder */
uint32_t altpop_msgnum_to_seq(struct altpop_client *client, unsigned int msgnum);
/* The UID of a message, from the index view the session's list came from */
uint32_t altpop_msgnum_to_uid(struct altpop_client *client, unsigned int msgnum);

/* commands.c */
int altpop_command_execute(struct altpop_client *client, const char *name,
			   const char *args);

/* fetch.c: RETR (body_lines == UOFF_T_MAX) and TOP */
int altpop_fetch(struct altpop_client *client, unsigned int msgnum,
		 uoff_t body_lines, uoff_t *byte_counter);

/* uidl.c */
/* Get every UIDL of the maildrop ready for altpop_uidl_append(): either
   worked out and kept, or (when nothing can collide) to be formatted as
   they are sent. */
int altpop_uidls_prepare(struct altpop_client *client);
/* Append message msgnum's UIDL to dest (after altpop_uidls_prepare()). */
void altpop_uidl_append(struct altpop_client *client, unsigned int msgnum,
			string_t *dest);
/* The UIDL of one message (0-based msgnum), working out only what it needs
   the first time; *uidl_r is allocated from the data stack. */
int altpop_uidl_get(struct altpop_client *client, unsigned int msgnum,
		    const char **uidl_r);

/* session-lock.c */
int altpop_session_lock(struct altpop_client *client);
void altpop_session_unlock(struct altpop_client *client);

/* login-delay.c: 1 if the login may go on (and its time is recorded);
   0 if LOGIN-DELAY refuses it, -1 on error: the client was told, and
   *reason_r is for the log */
int altpop_login_delay_check(struct altpop_client *client,
			     const char **reason_r);

/* expire.c */
/* Read the user's altpop_expire (at login). */
void altpop_expire_init(struct altpop_client *client);
/* After INBOX is opened: remove the messages retrieved long enough ago. */
void altpop_expire_session_start(struct altpop_client *client);
/* RETR, or TOP that sent the whole message, of msgnum finished. */
void altpop_expire_retrieved(struct altpop_client *client,
			     unsigned int msgnum);
/* QUIT with EXPIRE 0: the retrieved messages are deleted too. */
void altpop_expire_quit(struct altpop_client *client);
/* Record the first retrievals of this session (at QUIT, or before INBOX is
   closed); does nothing the second time. */
void altpop_expire_session_end(struct altpop_client *client);

/* events.c (doc/events.md) */
/* cmd_name of a command altpop has no handler for (as Dovecot's pop3) */
#define ALTPOP_CMD_EVENT_UNKNOWN "unknown"
/* The session event: category altpop, the connection's IPs and ports. */
void altpop_session_event_init(struct altpop_client *client);
/* A command line was taken from the input (NULL: unreadable), which
   advanced by in_bytes: starts its pop3_command_finished event. */
void altpop_cmd_event_begin(struct altpop_client *client, const char *line,
			    uoff_t in_bytes);
/* The dispatcher found the command: its name (a static string), and
   whether its arguments are left out of the event (login commands, which
   may carry credentials). */
void altpop_cmd_event_command(struct altpop_client *client, const char *name,
			      bool args_private);
/* A reply line is sent: the first one says +OK or -ERR. */
void altpop_cmd_event_reply(struct altpop_client *client, const char *line);
/* The command finished (its handler returned ret, and no continuation
   runs), or the session ends under it: sends the event. */
void altpop_cmd_event_finish(struct altpop_client *client, int ret);

/* logout.c */
const char *altpop_logout_stats(struct altpop_client *client);

#endif
