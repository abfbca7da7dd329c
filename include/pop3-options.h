/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_OPTIONS_H
#define POP3_OPTIONS_H

/* The behaviours of Dovecot's own pop3 settings that altpop offers under
   its own names (README, "Coming from Dovecot's pop3"): the values
   altpop_delete_type, altpop_uidl_duplicates and altpop_client_workarounds
   take, parsed once when the settings are loaded. Each parser returns 0,
   or -1 with *error_r naming the setting and what to write instead. */

/* What QUIT does with the messages DELE marked. */
enum pop3_delete_type {
	/* expunge them */
	POP3_DELETE_TYPE_EXPUNGE = 0,
	/* add the keyword altpop_deleted_flag names (the messages stay, and
	   sessions that set the same keyword do not show them) */
	POP3_DELETE_TYPE_FLAG,
};

/* What the UIDL listing does when two messages would have one UIDL. */
enum pop3_uidl_duplicates {
	/* altpop's default: the later one gets "-<its uid>" (and is kept
	   in the UIDL map), so it never changes */
	POP3_UIDL_DUPLICATES_UNIQUE = 0,
	/* both are shown as they are (stock pop3's default) */
	POP3_UIDL_DUPLICATES_ALLOW,
	/* the second gets "-2", the third "-3" ... in sequence order
	   (stock pop3's "rename") */
	POP3_UIDL_DUPLICATES_RENAME,
};

/* altpop_client_workarounds */
enum pop3_client_workarounds {
	/* NUL bytes in a message are sent as 0x80 */
	POP3_WORKAROUND_OUTLOOK_NO_NULS = 0x01,
	/* a message without the empty line that ends its header gets one
	   after the header */
	POP3_WORKAROUND_OE_NS_EOH = 0x02,
};

/* altpop_folders: at most this many folders in one maildrop */
#define POP3_FOLDERS_MAX 16

/* altpop_folders: folder names separated by spaces, INBOX first, none
   twice; "" is INBOX alone (*folders_r = NULL). The list is allocated
   from pool. */
int pop3_folders_parse(const char *value, pool_t pool,
		       const char *const **folders_r, const char **error_r);

/* "default" (flag when deleted_flag is set, else expunge), "expunge" or
   "flag" (needs deleted_flag). */
int pop3_delete_type_parse(const char *value, const char *deleted_flag,
			   enum pop3_delete_type *type_r,
			   const char **error_r);

/* "unique", "allow" or "rename". */
int pop3_uidl_duplicates_parse(const char *value,
			       enum pop3_uidl_duplicates *mode_r,
			       const char **error_r);

/* Names separated by spaces (or commas): outlook-no-nuls, oe-ns-eoh. */
int pop3_client_workarounds_parse(const char *value,
				  enum pop3_client_workarounds *flags_r,
				  const char **error_r);

#endif
