/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_MAIL_GLUE_H
#define ALTPOP_MAIL_GLUE_H

/* What the post-login process needs from Dovecot and that is done
   differently by Dovecot 2.3 and 2.4. configure links exactly one of
   mail-glue-23.c and mail-glue-24.c; everything else in module/mail is
   shared and calls only this API (plus the renames in altpop-compat.h). */

struct event;
struct mail_user;
struct mail_storage_service_input;
struct altpop_client;
struct altpop_settings;

/* A client handed over by altpop-login. input is filled in (service name,
   user, addresses, TLS state, session ID, userdb fields); data is what
   altpop-login sent after the login: the handoff block, then whatever
   the client pipelined behind its login command. */
typedef void
altpop_mail_login_callback_t(const struct mail_storage_service_input *input,
			     int fd, const unsigned char *data, size_t size);

struct altpop_mail_glue_settings {
	/* started by hand (altpop -u user), not by the master */
	bool standalone;
	/* do a userdb lookup (-u user) */
	bool userdb_lookup;
	/* absolute paths */
	const char *auth_socket_path;
	/* NULL: no post-login script */
	const char *postlogin_socket_path;
	/* 0: Dovecot's default */
	unsigned int postlogin_timeout_secs;
	/* called for every login (not when standalone) */
	altpop_mail_login_callback_t *login_callback;
};

/* The counters the logout line reports (altpop_logout_format). */
struct altpop_logout_stats {
	uoff_t top_count, top_bytes;
	uoff_t retr_count, retr_bytes;
	/* 0 unless QUIT's UPDATE state succeeded */
	uoff_t deleted_count, deleted_bytes;
	uoff_t message_count, message_bytes;
	/* bytes read from and written to the client */
	uoff_t input, output;
};

/* master_service_init() with the flags this Dovecot version wants for a
   post-login process (or for a process started by hand). */
void altpop_mail_glue_service_init(bool standalone, int *argc, char **argv[],
				   const char *getopt_str);
/* After the command line is parsed: reads the settings, starts accepting
   logins from altpop-login (unless standalone) and the mail storage
   service, and finishes the master service initialization. */
void altpop_mail_glue_init(const struct altpop_mail_glue_settings *set);
/* A connection on the login/altpop listener. */
void altpop_mail_glue_login_add(int fd);
/* Undoes altpop_mail_glue_init() and altpop_mail_glue_service_init(). */
void altpop_mail_glue_deinit(void);

/* Zero input and set the service name, for a user named on the command
   line. The caller fills in the user and addresses. */
void altpop_mail_glue_input_init(struct mail_storage_service_input *input);
/* Look up the user, create its mail_user with namespaces, and (if set_r is
   not NULL) get its altpop settings, variables expanded. Returns 0, or -1
   with error_r set (also when the user does not exist). */
int altpop_mail_glue_user_lookup(const struct mail_storage_service_input *input,
				 struct mail_user **user_r,
				 const struct altpop_settings **set_r,
				 const char **error_r) ATTR_NULL(3);
/* Free what altpop_mail_glue_user_lookup() gave; set may be NULL. */
void altpop_mail_glue_user_free(struct mail_user **user,
				const struct altpop_settings **set)
	ATTR_NULL(2);

/* Expand format (altpop_logout_format) into dest with the logout counters
   and the mail user's variables. Returns 0, or -1 with error_r set (dest
   then holds what could be expanded). */
int altpop_mail_glue_logout_expand(string_t *dest, const char *format,
				   const struct altpop_logout_stats *stats,
				   struct mail_user *user, struct event *event,
				   const char **error_r);

/* Register the session with anvil (mail_max_userip_connections, doveadm
   who/kick) under the altpop service name; unregister it. The state is
   kept in client->anvil; disconnect does nothing if connect did not
   register. */
void altpop_mail_glue_anvil_connect(struct altpop_client *client);
void altpop_mail_glue_anvil_disconnect(struct altpop_client *client);

/* Why the process is stopping with clients still connected: shutdown,
   or the administrator kicked the user. */
const char *altpop_mail_glue_stop_reason(void);

#endif
