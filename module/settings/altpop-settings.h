/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_SETTINGS_H
#define ALTPOP_SETTINGS_H

/* Settings of the post-login process "altpop" (protocol altpop { }). */

#include "settings-compat.h"
#include "altpop-policy-settings.h"
#include "pop3-options.h"

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
	/* altpop_login_delay, altpop_expire, altpop_utf8, altpop_lang */
	ALTPOP_POLICY_SETTINGS_FIELDS;

	/* Dovecot pop3's behaviours under altpop's names (pop3-options.h,
	   README "Coming from Dovecot's pop3") */
	const char *altpop_deleted_flag;
	const char *altpop_delete_type;
	ALTPOP_BOOL(altpop_enable_last);
	ALTPOP_BOOL(altpop_reuse_xuidl);
	const char *altpop_uidl_duplicates;
	ALTPOP_BOOL(altpop_fast_size_lookups);
	const char *altpop_client_workarounds;
	/* the folders a POP3 session shows, INBOX first */
	const char *altpop_folders;

	/* generated: */
	const char *parsed_uidl_format;
	enum pop3_delete_type parsed_delete_type;
	enum pop3_uidl_duplicates parsed_uidl_duplicates;
	enum pop3_client_workarounds parsed_workarounds;
	/* altpop_folders; NULL: INBOX alone */
	const char *const *parsed_folders;
};

extern const struct setting_parser_info altpop_setting_parser_info;

#endif
