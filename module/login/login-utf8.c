/* RFC 6856 UTF8 in altpop-login (altpop_utf8): the UTF8 command, and
   after it UTF-8 user names and passwords for USER/PASS, checked and
   normalised with SASLprep (RFC 4013, libidn's stringprep) as RFC 6856
   section 2 asks. Messages are sent unchanged in any case. */

#include "login-common.h"
#include "unichar.h"
#include "altpop-login.h"

#include <stringprep.h>

int altpop_cmd_utf8(struct altpop_login_client *aclient, const char *args)
{
	if (!aclient->set->altpop_utf8) {
		/* off: as if there were no such command */
		return altpop_login_bad_command(aclient, "Unknown command.") ?
			1 : 0;
	}
	if (args[0] != '\0') {
		return altpop_login_bad_command(aclient,
			"UTF8 takes no arguments.") ? 1 : 0;
	}
	aclient->utf8 = TRUE;
	altpop_login_reply(&aclient->common, ALTPOP_REPLY_OK,
			   "UTF8 enabled: user names and passwords are UTF-8.");
	return 1;
}

const char *altpop_utf8_prep(struct altpop_login_client *aclient,
			     const char *arg, const char *what)
{
	struct client *client = &aclient->common;
	char *prepped;
	const char *result;
	int ret;

	if (!aclient->utf8)
		return arg;
	if (!uni_utf8_str_is_valid(arg)) {
		/* overlong forms, surrogates, cut sequences, Latin-1 ... */
		e_debug(client->event, "UTF8: invalid UTF-8 in the %s", what);
		(void)altpop_login_bad_command(aclient, t_strdup_printf(
			"Invalid UTF-8 in the %s.", what));
		return NULL;
	}
	/* stored strings may not hold unassigned code points, queries may */
	ret = stringprep_profile(arg, &prepped, "SASLprep", 0);
	if (ret != STRINGPREP_OK) {
		e_debug(client->event, "UTF8: SASLprep of the %s failed: %s",
			what, stringprep_strerror(ret));
		(void)altpop_login_bad_command(aclient, t_strdup_printf(
			"The %s has characters SASLprep (RFC 4013) does not "
			"allow.", what));
		return NULL;
	}
	result = t_strdup(prepped);
	free(prepped);
	return result;
}
