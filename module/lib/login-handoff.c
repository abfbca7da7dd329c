/* The login -> post-login handoff line. */

#include "lib.h"
#include "str.h"
#include "strescape.h"
#include "login-handoff.h"

void login_handoff_append(string_t *dest, const struct login_handoff *handoff)
{
	str_append(dest, LOGIN_HANDOFF_MAGIC);
	if (handoff->sdps) {
		str_append(dest, "\tsdps\t");
		str_append_tabescaped(dest, handoff->sdps_user);
		str_append_c(dest, '\t');
		str_append_tabescaped(dest, handoff->sdps_host);
	}
	str_append_c(dest, '\n');
}

int login_handoff_parse(const unsigned char *data, size_t size,
			struct login_handoff *handoff_r, size_t *consumed_r)
{
	const size_t magic_len = strlen(LOGIN_HANDOFF_MAGIC);
	const unsigned char *lf;
	const char *const *args;

	i_zero(handoff_r);
	*consumed_r = 0;
	if (size < magic_len || memcmp(data, LOGIN_HANDOFF_MAGIC, magic_len) != 0)
		return 0;
	lf = memchr(data, '\n', I_MIN(size, LOGIN_HANDOFF_MAX_LEN));
	if (lf == NULL || memchr(data, '\0', lf - data) != NULL)
		return -1;
	args = t_strsplit_tabescaped(t_strndup(data, lf - data));
	if (strcmp(args[0], LOGIN_HANDOFF_MAGIC) != 0)
		return -1;
	if (str_array_length(args) == 1) {
		/* plain login */
	} else if (str_array_length(args) == 4 && strcmp(args[1], "sdps") == 0 &&
		   args[3][0] != '\0') {
		handoff_r->sdps = TRUE;
		handoff_r->sdps_user = args[2];
		handoff_r->sdps_host = args[3];
	} else {
		return -1;
	}
	*consumed_r = lf - data + 1;
	return 1;
}
