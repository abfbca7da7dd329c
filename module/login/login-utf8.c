/* SPDX-License-Identifier: LGPL-2.1-only */
/* RFC 6856 UTF8 in altpop-login (altpop_utf8): the UTF8 command, and
   after it UTF-8 user names and passwords of USER/PASS, checked and
   normalised with SASLprep (RFC 4013, libidn's stringprep) as RFC 6856
   asks. AUTH data is not touched here: a SASL mechanism's data belongs
   to the mechanism, which prepares it in the verification (RFC 4616
   section 5 for PLAIN), i.e. in Dovecot's auth process; doing it in the
   login process only after UTF8 would make AUTH PLAIN differ before and
   after the command although PLAIN is UTF-8 either way (README, UTF8).
   Messages are sent unchanged in any case. */

#include "login-common.h"
#include "safe-memset.h"
#include "str.h"
#include "unichar.h"
#include "altpop-login.h"

#include <stringprep.h>

int altpop_cmd_utf8(struct altpop_login_client *aclient, const char *args)
{
	if (!aclient->set->altpop_utf8) {
		/* off: as if there were no such command */
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UNKNOWN_COMMAND)) ? 1 : 0;
	}
	if (args[0] != '\0') {
		return altpop_login_bad_command(aclient, altpop_login_text(
			aclient, POP3_MSG_UTF8_NO_ARGS)) ? 1 : 0;
	}
	aclient->utf8 = TRUE;
	altpop_login_reply(&aclient->common, ALTPOP_REPLY_OK,
			   altpop_login_text(aclient, POP3_MSG_UTF8_ENABLED));
	return 1;
}

/* The one check and normalisation of a UTF-8 user name or password
   (USER, PASS): 0 and the SASLprep'd
   string (data stack), -1 if str is not valid UTF-8 (overlong forms,
   surrogates, cut sequences, Latin-1 ...), -2 if SASLprep refuses it
   (error_r says why). */
static int altpop_utf8_saslprep(const char *str, const char **result_r,
				const char **error_r)
{
	char *prepped;
	int ret;

	if (!uni_utf8_str_is_valid(str))
		return -1;
	/* stored strings may not hold unassigned code points, queries may */
	ret = stringprep_profile(str, &prepped, "SASLprep", 0);
	if (ret != STRINGPREP_OK) {
		*error_r = stringprep_strerror(ret);
		return -2;
	}
	*result_r = t_strdup(prepped);
	safe_memset(prepped, 0, strlen(prepped));
	free(prepped);
	return 0;
}

const char *altpop_utf8_prep(struct altpop_login_client *aclient,
			     const char *arg, bool password)
{
	struct client *client = &aclient->common;
	const char *what = password ? "password" : "user name";
	const char *result, *error;

	if (!aclient->utf8)
		return arg;
	switch (altpop_utf8_saslprep(arg, &result, &error)) {
	case 0:
		return result;
	case -1:
		e_debug(client->event, "UTF8: invalid UTF-8 in the %s", what);
		(void)altpop_login_bad_command(aclient, altpop_login_text(
			aclient, password ? POP3_MSG_UTF8_INVALID_PASSWORD :
			POP3_MSG_UTF8_INVALID_USER));
		return NULL;
	default:
		e_debug(client->event, "UTF8: SASLprep of the %s failed: %s",
			what, error);
		(void)altpop_login_bad_command(aclient, altpop_login_text(
			aclient, password ? POP3_MSG_SASLPREP_PASSWORD :
			POP3_MSG_SASLPREP_USER));
		return NULL;
	}
}
