/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 6856 LANG: the languages and the one table of the server's response
   texts per language (include/pop3-lang.h). */

#include "lib.h"
#include "str.h"
#include "pop3-lang.h"

#include <ctype.h>

struct pop3_lang_def {
	const char *tag;
	/* the language's name in itself (RFC 6856 language listing) */
	const char *description;
	const char *const *texts;
};

/* English: byte for byte what altpop answered before LANG existed (with
   altpop_lang off every reply stays as it was). */
static const char *const pop3_texts_en[POP3_MSG_COUNT] = {
	[POP3_MSG_UNKNOWN_COMMAND] = "Unknown command.",
	[POP3_MSG_TOO_MANY_BAD_COMMANDS] = "Too many bad commands.",
	[POP3_MSG_EMPTY_COMMAND] = "Empty command.",
	[POP3_MSG_COMMAND_NAME_TOO_LONG] = "Command name too long.",
	[POP3_MSG_INVALID_COMMAND_NAME] = "Invalid characters in command name.",
	[POP3_MSG_MISSING_ARGUMENT] = "Missing argument.",
	[POP3_MSG_INVALID_NUMBER] = "Invalid number: %s",
	[POP3_MSG_NUMBER_TOO_LARGE] = "Number too large: %s",
	[POP3_MSG_NOISE_AFTER_NUMBER] = "Noise after number: %s",
	[POP3_MSG_LANG_LIST] = "Language listing follows:",
	[POP3_MSG_LANG_CHANGED] = "Responses are now in English.",
	[POP3_MSG_LANG_UNSUPPORTED] =
		"Language not supported (LANG lists the languages).",
	[POP3_MSG_CAPA_FOLLOWS] = "Capability list follows",

	[POP3_MSG_LOGIN_LOGGING_OUT] = "Logging out",
	[POP3_MSG_LOGIN_INVALID_CHARS] = "Invalid characters in command line.",
	[POP3_MSG_KPOP_UNKNOWN_COMMAND] =
		"Unknown command: only CAPA, STLS, USER, PASS and QUIT "
		"are allowed before login on the KPOP port.",
	[POP3_MSG_KPOP_PORT_REFUSAL] =
		"This is the KPOP port: you are authenticated by Kerberos, "
		"send USER <name> and PASS.",
	[POP3_MSG_USER_NEEDS_NAME] = "USER needs a user name.",
	[POP3_MSG_SEND_PASSWORD] = "Send your password.",
	[POP3_MSG_NO_USERNAME] = "No username given (send USER first).",
	[POP3_MSG_APOP_NOT_ENABLED] = "APOP not enabled.",
	[POP3_MSG_APOP_USAGE] = "Usage: APOP <name> <32 hex digits>.",
	[POP3_MSG_APOP_SDPS] =
		"APOP is not available for SDPS login names: use USER/PASS.",
	[POP3_MSG_APOP_INVALID_DIGEST] = "Invalid characters in APOP digest.",
	[POP3_MSG_AUTH_SERVER_RESTARTED] =
		"Authentication server restarted, reconnect.",
	[POP3_MSG_UTF8_ENABLED] =
		"UTF8 enabled: user names and passwords are UTF-8.",
	[POP3_MSG_UTF8_NO_ARGS] = "UTF8 takes no arguments.",
	[POP3_MSG_UTF8_INVALID_USER] = "Invalid UTF-8 in the user name.",
	[POP3_MSG_UTF8_INVALID_PASSWORD] = "Invalid UTF-8 in the password.",
	[POP3_MSG_SASLPREP_USER] =
		"The user name has characters SASLprep (RFC 4013) does not "
		"allow.",
	[POP3_MSG_SASLPREP_PASSWORD] =
		"The password has characters SASLprep (RFC 4013) does not "
		"allow.",
	[POP3_MSG_IDLE_DISCONNECT] = "Disconnected for inactivity.",
	[POP3_MSG_KPOP_KRB4_UNSUPPORTED] =
		"Kerberos IV KPOP is not supported, use Kerberos V5.",
	[POP3_MSG_KPOP_INVALID_USER] = "Invalid user name.",
	[POP3_MSG_KPOP_SEND_PASS] =
		"Send PASS (any text) to log in with your Kerberos ticket.",
	[POP3_MSG_KPOP_LOGIN_TIMEOUT] =
		"Timed out waiting for the login result.",
	[POP3_MSG_XCLIENT_UNTRUSTED] = "You are not from trusted IP - ignoring",
	[POP3_MSG_XCLIENT_INVALID] = "Invalid parameters",
	[POP3_MSG_XCLIENT_UPDATED] = "Updated",
	[POP3_MSG_XCLIENT_RELOAD_FAILED] = "Failed to reload configuration",
	[POP3_MSG_SDPS_INVALID_NAME] = "Invalid login name: %s",
	[POP3_MSG_SDPS_NEED_USER] = "Log in as user@host.",
	[POP3_MSG_SDPS_MISCONFIGURED] = "Login mapping is misconfigured.",

	[POP3_MSG_LOGGED_IN] = "Logged in.",
	[POP3_MSG_NO_SUCH_MESSAGE] = "There's no message %llu.",
	[POP3_MSG_MESSAGE_DELETED] = "Message is deleted.",
	[POP3_MSG_MESSAGE_EXPUNGED] = "Message %u expunged.",
	[POP3_MSG_LIST_MESSAGES] = "%u messages:",
	[POP3_MSG_MARKED_DELETED] = "Marked to be deleted.",
	[POP3_MSG_LOGGING_OUT] = "Logging out.",
	[POP3_MSG_LOGGING_OUT_DELETED] = "Logging out, messages deleted.",
	[POP3_MSG_QUIT_UPDATE_FAILED] = "Mailbox couldn't be updated, "
		"some deleted messages not removed: try again later.",
	[POP3_MSG_QUIT_SEEN_FAILED] = "Mailbox couldn't be updated, "
		"retrieved messages not marked as read.",
	[POP3_MSG_UIDLS_FAILED] = "UIDLs couldn't be listed.",
	[POP3_MSG_ALREADY_LOGGED_IN] = "Already logged in.",
	[POP3_MSG_UNKNOWN_COMMAND_NAME] = "Unknown command: %s",
	[POP3_MSG_COMMAND_NOT_IN_STATE] = "%s is not valid in this state.",
	[POP3_MSG_INPUT_LINE_TOO_LONG] = "Input line too long.",
	[POP3_MSG_INVALID_CHARS] =
		"Invalid characters (NUL or bare CR) in command line.",
	[POP3_MSG_INACTIVITY] = "Disconnected for inactivity.",
	[POP3_MSG_MAILBOX_IN_USE] =
		"Mailbox is locked by another POP3 session.",
	[POP3_MSG_LOGIN_DELAY] =
		"Logged in %ld seconds ago: wait %ld seconds between logins "
		"(LOGIN-DELAY %u).",
	[POP3_MSG_SDPS_NO_SUCH_MESSAGE] = "No such message.",
	[POP3_MSG_MAILBOX_INCONSISTENT] =
		"Mailbox is in inconsistent state, please relogin.",
	[POP3_MSG_LOGIN_DELAY_CHECK_FAILED] =
		"Couldn't check the time of the last login.",
	[POP3_MSG_LOGIN_DELAY_RECORD_FAILED] =
		"Couldn't record the time of the login.",
	[POP3_MSG_SYNC_FAILED] = "Couldn't sync mailbox.",
	[POP3_MSG_LOCK_CREATE_FAILED] = "Failed to create the maildrop lock.",
	[POP3_MSG_LOCK_REFRESH_FAILED] = "Couldn't refresh the maildrop lock.",
};

static const char *const pop3_texts_it[POP3_MSG_COUNT] = {
	[POP3_MSG_UNKNOWN_COMMAND] = "Comando sconosciuto.",
	[POP3_MSG_TOO_MANY_BAD_COMMANDS] = "Troppi comandi errati.",
	[POP3_MSG_EMPTY_COMMAND] = "Comando vuoto.",
	[POP3_MSG_COMMAND_NAME_TOO_LONG] = "Nome del comando troppo lungo.",
	[POP3_MSG_INVALID_COMMAND_NAME] =
		"Caratteri non validi nel nome del comando.",
	[POP3_MSG_MISSING_ARGUMENT] = "Argomento mancante.",
	[POP3_MSG_INVALID_NUMBER] = "Numero non valido: %s",
	[POP3_MSG_NUMBER_TOO_LARGE] = "Numero troppo grande: %s",
	[POP3_MSG_NOISE_AFTER_NUMBER] = "Caratteri in più dopo il numero: %s",
	[POP3_MSG_LANG_LIST] = "Segue l'elenco delle lingue:",
	[POP3_MSG_LANG_CHANGED] = "Le risposte sono ora in italiano.",
	[POP3_MSG_LANG_UNSUPPORTED] =
		"Lingua non disponibile (LANG elenca le lingue).",
	[POP3_MSG_CAPA_FOLLOWS] = "Segue l'elenco delle funzionalità",

	[POP3_MSG_LOGIN_LOGGING_OUT] = "Disconnessione",
	[POP3_MSG_LOGIN_INVALID_CHARS] =
		"Caratteri non validi nella riga di comando.",
	[POP3_MSG_KPOP_UNKNOWN_COMMAND] =
		"Comando sconosciuto: prima dell'accesso sulla porta KPOP "
		"sono ammessi solo CAPA, STLS, USER, PASS e QUIT.",
	[POP3_MSG_KPOP_PORT_REFUSAL] =
		"Questa è la porta KPOP: l'autenticazione avviene con "
		"Kerberos, inviare USER <nome> e PASS.",
	[POP3_MSG_USER_NEEDS_NAME] = "USER richiede un nome utente.",
	[POP3_MSG_SEND_PASSWORD] = "Inviare la password.",
	[POP3_MSG_NO_USERNAME] =
		"Nessun nome utente (inviare prima USER).",
	[POP3_MSG_APOP_NOT_ENABLED] = "APOP non è abilitato.",
	[POP3_MSG_APOP_USAGE] = "Uso: APOP <nome> <32 cifre esadecimali>.",
	[POP3_MSG_APOP_SDPS] =
		"APOP non è disponibile per i nomi di accesso SDPS: "
		"usare USER/PASS.",
	[POP3_MSG_APOP_INVALID_DIGEST] =
		"Caratteri non validi nel digest APOP.",
	[POP3_MSG_AUTH_SERVER_RESTARTED] =
		"Il server di autenticazione è stato riavviato, "
		"riconnettersi.",
	[POP3_MSG_UTF8_ENABLED] =
		"UTF8 abilitato: nomi utente e password sono in UTF-8.",
	[POP3_MSG_UTF8_NO_ARGS] = "UTF8 non accetta argomenti.",
	[POP3_MSG_UTF8_INVALID_USER] = "UTF-8 non valido nel nome utente.",
	[POP3_MSG_UTF8_INVALID_PASSWORD] = "UTF-8 non valido nella password.",
	[POP3_MSG_SASLPREP_USER] =
		"Il nome utente contiene caratteri non ammessi da SASLprep "
		"(RFC 4013).",
	[POP3_MSG_SASLPREP_PASSWORD] =
		"La password contiene caratteri non ammessi da SASLprep "
		"(RFC 4013).",
	[POP3_MSG_IDLE_DISCONNECT] = "Disconnesso per inattività.",
	[POP3_MSG_KPOP_KRB4_UNSUPPORTED] =
		"KPOP con Kerberos IV non è supportato, usare Kerberos V5.",
	[POP3_MSG_KPOP_INVALID_USER] = "Nome utente non valido.",
	[POP3_MSG_KPOP_SEND_PASS] =
		"Inviare PASS (testo qualsiasi) per accedere con il ticket "
		"Kerberos.",
	[POP3_MSG_KPOP_LOGIN_TIMEOUT] =
		"Tempo scaduto in attesa dell'esito dell'accesso.",
	[POP3_MSG_XCLIENT_UNTRUSTED] = "IP non fidato: comando ignorato",
	[POP3_MSG_XCLIENT_INVALID] = "Parametri non validi",
	[POP3_MSG_XCLIENT_UPDATED] = "Aggiornato",
	[POP3_MSG_XCLIENT_RELOAD_FAILED] =
		"Impossibile ricaricare la configurazione",
	[POP3_MSG_SDPS_INVALID_NAME] = "Nome di accesso non valido: %s",
	[POP3_MSG_SDPS_NEED_USER] = "Accedere come utente@host.",
	[POP3_MSG_SDPS_MISCONFIGURED] =
		"La mappatura degli accessi è configurata male.",

	[POP3_MSG_LOGGED_IN] = "Accesso eseguito.",
	[POP3_MSG_NO_SUCH_MESSAGE] = "Il messaggio %llu non esiste.",
	[POP3_MSG_MESSAGE_DELETED] = "Il messaggio è eliminato.",
	[POP3_MSG_MESSAGE_EXPUNGED] = "Il messaggio %u è stato rimosso.",
	[POP3_MSG_LIST_MESSAGES] = "%u messaggi:",
	[POP3_MSG_MARKED_DELETED] = "Segnato per l'eliminazione.",
	[POP3_MSG_LOGGING_OUT] = "Disconnessione.",
	[POP3_MSG_LOGGING_OUT_DELETED] =
		"Disconnessione, messaggi eliminati.",
	[POP3_MSG_QUIT_UPDATE_FAILED] = "Impossibile aggiornare la casella, "
		"alcuni messaggi eliminati non sono stati rimossi: "
		"riprovare più tardi.",
	[POP3_MSG_QUIT_SEEN_FAILED] = "Impossibile aggiornare la casella, "
		"i messaggi scaricati non sono stati segnati come letti.",
	[POP3_MSG_UIDLS_FAILED] = "Impossibile elencare gli UIDL.",
	[POP3_MSG_ALREADY_LOGGED_IN] = "Accesso già eseguito.",
	[POP3_MSG_UNKNOWN_COMMAND_NAME] = "Comando sconosciuto: %s",
	[POP3_MSG_COMMAND_NOT_IN_STATE] = "%s non è valido in questo stato.",
	[POP3_MSG_INPUT_LINE_TOO_LONG] = "Riga di comando troppo lunga.",
	[POP3_MSG_INVALID_CHARS] =
		"Caratteri non validi (NUL o CR isolato) nella riga di "
		"comando.",
	[POP3_MSG_INACTIVITY] = "Disconnesso per inattività.",
	[POP3_MSG_MAILBOX_IN_USE] =
		"La casella è bloccata da un'altra sessione POP3.",
	[POP3_MSG_LOGIN_DELAY] =
		"Ultimo accesso %ld secondi fa: attendere %ld secondi tra "
		"un accesso e l'altro (LOGIN-DELAY %u).",
	[POP3_MSG_SDPS_NO_SUCH_MESSAGE] = "Messaggio inesistente.",
	[POP3_MSG_MAILBOX_INCONSISTENT] =
		"La casella è in uno stato incoerente, riaccedere.",
	[POP3_MSG_LOGIN_DELAY_CHECK_FAILED] =
		"Impossibile verificare l'ora dell'ultimo accesso.",
	[POP3_MSG_LOGIN_DELAY_RECORD_FAILED] =
		"Impossibile registrare l'ora dell'accesso.",
	[POP3_MSG_SYNC_FAILED] = "Impossibile sincronizzare la casella.",
	[POP3_MSG_LOCK_CREATE_FAILED] =
		"Impossibile creare il blocco della casella.",
	[POP3_MSG_LOCK_REFRESH_FAILED] =
		"Impossibile rinnovare il blocco della casella.",
};

static const struct pop3_lang_def pop3_langs[POP3_LANG_COUNT] = {
	[POP3_LANG_EN] = { "en", "English", pop3_texts_en },
	[POP3_LANG_IT] = { "it", "Italiano", pop3_texts_it },
};

const char *pop3_lang_tag(enum pop3_lang lang)
{
	i_assert(lang < POP3_LANG_COUNT);
	return pop3_langs[lang].tag;
}

const char *pop3_lang_description(enum pop3_lang lang)
{
	i_assert(lang < POP3_LANG_COUNT);
	return pop3_langs[lang].description;
}

bool pop3_lang_find(const char *tag, enum pop3_lang *lang_r)
{
	for (unsigned int i = 0; i < POP3_LANG_COUNT; i++) {
		if (strcasecmp(pop3_langs[i].tag, tag) == 0) {
			*lang_r = i;
			return TRUE;
		}
	}
	return FALSE;
}

/* RFC 4647 basic-language-range = (1*8ALPHA *("-" 1*8alphanum)) / "*" */
static bool pop3_lang_range_valid(const char *range)
{
	unsigned int len = 0;
	bool first = TRUE;

	if (strcmp(range, "*") == 0)
		return TRUE;
	if (strlen(range) > POP3_LANG_MAX_RANGE_LEN)
		return FALSE;
	for (const char *p = range;; p++) {
		if (*p == '-' || *p == '\0') {
			if (len == 0 || len > 8)
				return FALSE;
			if (*p == '\0')
				return TRUE;
			len = 0;
			first = FALSE;
		} else if (i_isalpha(*p) || (!first && i_isdigit(*p))) {
			len++;
		} else {
			return FALSE;
		}
	}
}

bool pop3_lang_match(const char *range, enum pop3_lang *lang_r)
{
	size_t range_len = strlen(range);
	unsigned int i;

	if (!pop3_lang_range_valid(range))
		return FALSE;
	if (strcmp(range, "*") == 0) {
		*lang_r = POP3_LANG_DEFAULT;
		return TRUE;
	}
	/* basic filtering: the range is the tag or a prefix of it ending at
	   a subtag boundary */
	for (i = 0; i < POP3_LANG_COUNT; i++) {
		const char *tag = pop3_langs[i].tag;

		if (strncasecmp(tag, range, range_len) == 0 &&
		    (tag[range_len] == '\0' || tag[range_len] == '-')) {
			*lang_r = i;
			return TRUE;
		}
	}
	/* lookup: drop subtags from the end of the range */
	const char *cut = t_strdup(range);
	const char *dash;
	while ((dash = strrchr(cut, '-')) != NULL) {
		cut = t_strdup_until(cut, dash);
		if (pop3_lang_find(cut, lang_r))
			return TRUE;
	}
	return FALSE;
}

const char *pop3_lang_text(enum pop3_lang lang, enum pop3_msg msg)
{
	i_assert(lang < POP3_LANG_COUNT);
	i_assert(msg < POP3_MSG_COUNT);
	return pop3_langs[lang].texts[msg];
}

const char *pop3_lang_printf(enum pop3_lang lang, enum pop3_msg msg, ...)
{
	const char *ret;
	va_list args;

	va_start(args, msg);
	ret = t_strdup_vprintf(pop3_lang_text(lang, msg), args);
	va_end(args);
	return ret;
}

void pop3_lang_command(const char *args, enum pop3_lang *lang,
		       string_t *dest)
{
	enum pop3_lang new_lang;

	if (*args == '\0') {
		str_printfa(dest, "+OK %s\r\n",
			    pop3_lang_text(*lang, POP3_MSG_LANG_LIST));
		for (unsigned int i = 0; i < POP3_LANG_COUNT; i++) {
			str_printfa(dest, "%s %s\r\n", pop3_langs[i].tag,
				    pop3_langs[i].description);
		}
		str_append(dest, ".\r\n");
		return;
	}
	/* one argument; trailing spaces are tolerated */
	const char *range = t_strcut(args, ' ');
	const char *rest = args + strlen(range);
	while (*rest == ' ')
		rest++;
	if (*rest != '\0' || !pop3_lang_match(range, &new_lang)) {
		str_printfa(dest, "-ERR %s\r\n",
			    pop3_lang_text(*lang, POP3_MSG_LANG_UNSUPPORTED));
		return;
	}
	*lang = new_lang;
	str_printfa(dest, "+OK %s %s\r\n", pop3_lang_tag(new_lang),
		    pop3_lang_text(new_lang, POP3_MSG_LANG_CHANGED));
}
