/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_SETTINGS_H
#define ALTPOP_SETTINGS_H

/* Settings of the post-login process "altpop" (protocol altpop { }). */

#include "settings-compat.h"

/* altpop_idle_timeout bounds, in seconds. The upper one keeps the timer's
   milliseconds well inside unsigned int (which wraps after 49.7 days). */
#define ALTPOP_IDLE_TIMEOUT_MIN_SECS 10
#define ALTPOP_IDLE_TIMEOUT_MAX_SECS (24*60*60)
/* altpop_lock_session_wait upper bound, in seconds */
#define ALTPOP_LOCK_SESSION_WAIT_MAX_SECS 60

struct altpop_settings {
	pool_t pool;
	bool verbose_proctitle;
	const char *rawlog_dir;

	/* yes/no settings: see ALTPOP_BOOL() in settings-compat.h */
	ALTPOP_BOOL(altpop_lock_session);
	ALTPOP_BOOL(altpop_no_flag_updates);
	const char *altpop_logout_format;
	const char *altpop_uidl_format;
	ALTPOP_BOOL(altpop_save_uidl);
	unsigned int altpop_idle_timeout;
	unsigned int altpop_max_bad_commands;
	/* SDPS envelope: header names delivery wrote, first found wins */
	const char *altpop_sdps_sender_headers;
	const char *altpop_sdps_recipient_headers;
	/* how long a new session waits for a locked maildrop before
	   answering [IN-USE]; 0 = answer at once */
	unsigned int altpop_lock_session_wait;
	/* RFC 2449 LOGIN-DELAY, seconds (0: off); userdb may override */
	unsigned int altpop_login_delay;
	/* RFC 2449 EXPIRE (expire-policy.h); userdb may override */
	const char *altpop_expire;
	/* RFC 6856 UTF8 (the command is altpop-login's; CAPA after login
	   announces it too, RFC 2449 section 5) */
	ALTPOP_BOOL(altpop_utf8);
	/* RFC 6856 LANG (before login altpop-login's; the language chosen
	   then comes in the login handoff) */
	ALTPOP_BOOL(altpop_lang);

	/* generated: */
	const char *parsed_uidl_format;
};

extern const struct setting_parser_info altpop_setting_parser_info;

#endif
