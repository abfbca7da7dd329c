/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 2449 LOGIN-DELAY: a login sooner than altpop_login_delay seconds
   after the user's previous successful login is refused before the
   session starts. The time of the last login is a state file with the
   user's mail (state-file.h):
     "altpop-last-login 1" LF <unix time> LF
   Checking and recording happen under the file's lock, so of logins
   racing each other (on one or on several servers) only one gets in. */

#include "lib.h"
#include "ioloop.h"
#include "str.h"
#include "strnum.h"
#include "mail-namespace.h"
#include "mail-user.h"
#include "state-file.h"
#include "altpop-client.h"

#define ALTPOP_LAST_LOGIN_FNAME "dovecot-altpop-last-login"
#define ALTPOP_LAST_LOGIN_HEADER "altpop-last-login 1"

/* The last login time in content, or 0 for none. A file that is not in
   the format is logged and treated as no login. */
static time_t altpop_last_login_parse(struct altpop_client *client,
				      const char *content)
{
	const char *const *lines = t_strsplit(content, "\n");
	time_t stamp;

	if (content[0] == '\0')
		return 0;
	if (str_array_length(lines) < 2 ||
	    strcmp(lines[0], ALTPOP_LAST_LOGIN_HEADER) != 0 ||
	    str_to_time(lines[1], &stamp) < 0) {
		e_error(client->event, "LOGIN-DELAY: "ALTPOP_LAST_LOGIN_FNAME
			" is corrupt: overwriting it");
		return 0;
	}
	return stamp;
}

int altpop_login_delay_check(struct altpop_client *client,
			     const char **reason_r)
{
	unsigned int delay = client->set->altpop_login_delay;
	struct mail_namespace *ns;
	struct altpop_state_file *file;
	const char *content, *error;
	string_t *str;
	time_t last, elapsed;

	if (delay == 0)
		return 1;
	ns = mail_namespace_find_inbox(client->user->namespaces);
	if (altpop_state_file_lock(ns, ALTPOP_LAST_LOGIN_FNAME, &file,
				   &content, &error) < 0) {
		e_error(client->event, "LOGIN-DELAY: %s", error);
		altpop_client_send_line(client, "-ERR [SYS/TEMP] Couldn't "
					"check the time of the last login.");
		*reason_r = "LOGIN-DELAY check failed";
		return -1;
	}
	last = altpop_last_login_parse(client, content);
	/* a time in the future (clocks of servers differ a little) counts
	   as now; one further away than the delay is nonsense */
	elapsed = ioloop_time >= last ? ioloop_time - last : 0;
	if (last != 0 && elapsed < (time_t)delay &&
	    last <= ioloop_time + (time_t)delay) {
		altpop_state_file_unlock(&file);
		altpop_client_send_msg(client, "-ERR [LOGIN-DELAY]",
				       POP3_MSG_LOGIN_DELAY, (long)elapsed,
				       (long)(delay - elapsed), delay);
		*reason_r = t_strdup_printf("Login refused by LOGIN-DELAY %u: "
			"the last login was %ld seconds ago", delay,
			(long)elapsed);
		return 0;
	}
	str = t_str_new(64);
	str_printfa(str, ALTPOP_LAST_LOGIN_HEADER"\n%ld\n", (long)ioloop_time);
	if (altpop_state_file_replace(&file, str, &error) < 0) {
		e_error(client->event, "LOGIN-DELAY: %s", error);
		altpop_client_send_line(client, "-ERR [SYS/TEMP] Couldn't "
					"record the time of the login.");
		*reason_r = "LOGIN-DELAY record failed";
		return -1;
	}
	return 1;
}
