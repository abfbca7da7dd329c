/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 LOGIN-DELAY: a login sooner than altpop_login_delay seconds
   after the user's previous successful login is refused before the
   session starts (login-delay-policy.h). The time of the last login is a
   state file with the user's mail (state-file.h) in the format of
   last-login-file.h. Checking and recording happen under the file's lock,
   so of logins racing each other (on one or on several servers) only one
   gets in. */

#include "lib.h"
#include "ioloop.h"
#include "str.h"
#include "mail-namespace.h"
#include "mail-user.h"
#include "last-login-file.h"
#include "login-delay-policy.h"
#include "state-file.h"
#include "altpop-client.h"

#define ALTPOP_LAST_LOGIN_FNAME "dovecot-altpop-last-login"

/* The last login time in content, or 0 for none. A file that is not in
   the format is logged and treated as no login. */
static time_t altpop_last_login_parse(struct altpop_client *client,
				      const buffer_t *content)
{
	const char *error;
	time_t last;

	if (last_login_file_parse(content->data, content->used,
				  &last, &error) < 0) {
		e_error(client->event, "LOGIN-DELAY: "ALTPOP_LAST_LOGIN_FNAME
			" is corrupt (%s): overwriting it", error);
		return 0;
	}
	return last;
}

int altpop_login_delay_check(struct altpop_client *client,
			     const char **reason_r)
{
	unsigned int delay = client->set->altpop_login_delay;
	struct mail_namespace *ns;
	struct altpop_state_file *file;
	const buffer_t *content;
	const char *error;
	string_t *str;
	time_t last, elapsed;
	int ret;

	if (delay == 0)
		return 1;
	ns = mail_namespace_find_inbox(client->user->namespaces);
	if (altpop_state_file_lock(ns, ALTPOP_LAST_LOGIN_FNAME, &file,
				   &content, &error) < 0) {
		e_error(client->event, "LOGIN-DELAY: %s", error);
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_LOGIN_DELAY_CHECK_FAILED);
		*reason_r = "LOGIN-DELAY check failed";
		return -1;
	}
	last = altpop_last_login_parse(client, content);
	if (login_delay_refuses(last, ioloop_time, delay, &elapsed)) {
		struct event *event = altpop_event_create(client->event,
			"altpop_login_delay_refused");

		altpop_state_file_unlock(&file);
		event_add_int(event, "login_delay_secs", delay);
		event_add_int(event, "elapsed_secs", elapsed);
		event_add_int(event, "remaining_secs", delay - elapsed);
		e_debug(event, "LOGIN-DELAY refused the login: the last login "
			"was %ld seconds ago", (long)elapsed);
		event_unref(&event);
		altpop_client_send_msg(client, "-ERR [LOGIN-DELAY]",
				       POP3_MSG_LOGIN_DELAY, (long)elapsed,
				       (long)(delay - elapsed), delay);
		*reason_r = t_strdup_printf("Login refused by LOGIN-DELAY %u: "
			"the last login was %ld seconds ago", delay,
			(long)elapsed);
		return 0;
	}
	str = t_str_new(64);
	last_login_file_write(str, ioloop_time);
	ret = altpop_state_file_replace(&file, str, &error);
	if (ret == ALTPOP_STATE_FILE_UNWRITTEN) {
		/* a full or failing disk: refusing would keep the user from
		   the mail; the last login recorded before still counts */
		e_error(client->event, "LOGIN-DELAY: %s; letting the login "
			"in without recording it", error);
	} else if (ret < 0) {
		e_error(client->event, "LOGIN-DELAY: %s", error);
		altpop_client_send_msg(client, "-ERR [SYS/TEMP]",
				       POP3_MSG_LOGIN_DELAY_RECORD_FAILED);
		*reason_r = "LOGIN-DELAY record failed";
		return -1;
	}
	return 1;
}
