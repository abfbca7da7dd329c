/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef POP3_LANG_H
#define POP3_LANG_H

/* RFC 6856 LANG: the languages of the server's own response texts and the
   one table (module/lib/pop3-lang.c) of those texts per language, for both
   processes. Only the human-readable text is looked up here: "+OK"/"-ERR",
   response codes ("[AUTH]", "[IN-USE]", ...) and the machine-read parts of
   replies (STAT's counts, scan listings, octet counts) are never
   translated. Only texts altpop writes itself are here, each sent by its
   id; Dovecot's own texts (login-common's, storage errors) go out as
   Dovecot writes them. Texts with printf conversions take the same arguments in
   every language (tests/unit/test-pop3-lang.c checks that). */

enum pop3_lang {
	/* the default: also what a session without LANG sees */
	POP3_LANG_EN = 0,
	POP3_LANG_IT,

	POP3_LANG_COUNT
};
#define POP3_LANG_DEFAULT POP3_LANG_EN

/* Longest language range LANG takes (RFC 4647 basic language range;
   RFC 5646 recommends room for 35 characters per tag) */
#define POP3_LANG_MAX_RANGE_LEN 64

enum pop3_msg {
	/* both processes */
	POP3_MSG_UNKNOWN_COMMAND = 0,
	POP3_MSG_TOO_MANY_BAD_COMMANDS,
	POP3_MSG_EMPTY_COMMAND,
	POP3_MSG_COMMAND_NAME_TOO_LONG,
	POP3_MSG_INVALID_COMMAND_NAME,
	POP3_MSG_MISSING_ARGUMENT,
	POP3_MSG_INVALID_NUMBER,	/* %s: the argument */
	POP3_MSG_NUMBER_TOO_LARGE,	/* %s: the argument */
	POP3_MSG_NOISE_AFTER_NUMBER,	/* %s: what follows */
	POP3_MSG_LANG_LIST,
	POP3_MSG_LANG_CHANGED,
	POP3_MSG_LANG_UNSUPPORTED,
	POP3_MSG_CAPA_FOLLOWS,

	/* altpop-login */
	POP3_MSG_LOGIN_LOGGING_OUT,
	POP3_MSG_LOGIN_INVALID_CHARS,
	POP3_MSG_KPOP_UNKNOWN_COMMAND,
	POP3_MSG_KPOP_PORT_REFUSAL,
	POP3_MSG_USER_NEEDS_NAME,
	POP3_MSG_SEND_PASSWORD,
	POP3_MSG_NO_USERNAME,
	POP3_MSG_APOP_NOT_ENABLED,
	POP3_MSG_APOP_USAGE,
	POP3_MSG_APOP_SDPS,
	POP3_MSG_APOP_INVALID_DIGEST,
	POP3_MSG_AUTH_SERVER_RESTARTED,
	POP3_MSG_UTF8_ENABLED,
	POP3_MSG_UTF8_NO_ARGS,
	POP3_MSG_UTF8_INVALID_USER,
	POP3_MSG_UTF8_INVALID_PASSWORD,
	POP3_MSG_SASLPREP_USER,
	POP3_MSG_SASLPREP_PASSWORD,
	POP3_MSG_IDLE_DISCONNECT,
	POP3_MSG_KPOP_KRB4_UNSUPPORTED,
	POP3_MSG_KPOP_INVALID_USER,
	POP3_MSG_KPOP_SEND_PASS,
	POP3_MSG_KPOP_LOGIN_TIMEOUT,
	POP3_MSG_XCLIENT_UNTRUSTED,
	POP3_MSG_XCLIENT_INVALID,
	POP3_MSG_XCLIENT_UPDATED,
	POP3_MSG_XCLIENT_RELOAD_FAILED,
	POP3_MSG_SDPS_INVALID_NAME,	/* %s: why */
	POP3_MSG_SDPS_NEED_USER,
	POP3_MSG_SDPS_MISCONFIGURED,

	/* altpop (after login) */
	POP3_MSG_LOGGED_IN,
	POP3_MSG_NO_SUCH_MESSAGE,	/* %llu: the number */
	POP3_MSG_MESSAGE_DELETED,
	POP3_MSG_MESSAGE_EXPUNGED,	/* %u: the number */
	POP3_MSG_LIST_MESSAGES,		/* %u: the count */
	POP3_MSG_MARKED_DELETED,
	POP3_MSG_LOGGING_OUT,
	POP3_MSG_LOGGING_OUT_DELETED,
	POP3_MSG_QUIT_UPDATE_FAILED,
	POP3_MSG_QUIT_SEEN_FAILED,
	POP3_MSG_UIDLS_FAILED,
	POP3_MSG_ALREADY_LOGGED_IN,
	POP3_MSG_UNKNOWN_COMMAND_NAME,	/* %s: the command */
	POP3_MSG_COMMAND_NOT_IN_STATE,	/* %s: the command */
	POP3_MSG_INPUT_LINE_TOO_LONG,
	POP3_MSG_INVALID_CHARS,
	POP3_MSG_INACTIVITY,
	POP3_MSG_MAILBOX_IN_USE,
	POP3_MSG_LOGIN_DELAY,		/* %ld, %ld, %u: seconds ago, to wait, the
					   delay */
	POP3_MSG_SDPS_NO_SUCH_MESSAGE,
	POP3_MSG_MAILBOX_INCONSISTENT,
	POP3_MSG_LOGIN_DELAY_CHECK_FAILED,
	POP3_MSG_LOGIN_DELAY_RECORD_FAILED,
	POP3_MSG_SYNC_FAILED,
	POP3_MSG_LOCK_CREATE_FAILED,
	POP3_MSG_LOCK_REFRESH_FAILED,

	POP3_MSG_COUNT
};

/* The language's tag ("en", "it") and its name in itself. */
const char *pop3_lang_tag(enum pop3_lang lang);
const char *pop3_lang_description(enum pop3_lang lang);
/* The language a handoff or LANG argument names exactly (ASCII case does
   not matter). FALSE if none. */
bool pop3_lang_find(const char *tag, enum pop3_lang *lang_r);
/* RFC 6856 / RFC 4647 matching of a basic language range: "*" is the
   default language; otherwise the supported tag the range equals or is a
   prefix of (basic filtering, "it" for "it"), else the longest supported
   tag that is a prefix of the range (lookup, "it" for "it-CH"). */
bool pop3_lang_match(const char *range, enum pop3_lang *lang_r);

/* The text of msg in lang. */
const char *pop3_lang_text(enum pop3_lang lang, enum pop3_msg msg);
/* msg's text in lang formatted with the arguments (data stack); the
   arguments are what pop3-lang.h names beside the message id. */
const char *pop3_lang_printf(enum pop3_lang lang, enum pop3_msg msg, ...);

/* The LANG command (RFC 6856 section 3) for both processes: appends the
   whole reply, CRLF-terminated (multi-line for the listing), to dest and
   switches *lang when the argument names a supported language. The reply
   to a switch is in the new language, a refusal in the current one. */
void pop3_lang_command(const char *args, enum pop3_lang *lang,
		       string_t *dest);

#endif
