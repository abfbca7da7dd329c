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
	if (handoff->capa_user)
		str_append(dest, "\tuser");
	if (handoff->capa_sasl_mechs != NULL &&
	    handoff->capa_sasl_mechs[0] != NULL) {
		str_append(dest, "\tsasl\t");
		str_append_tabescaped(dest, t_strarray_join(
			handoff->capa_sasl_mechs, " "));
	}
	str_append_c(dest, '\n');
}

int login_handoff_parse(const unsigned char *data, size_t size,
			struct login_handoff *handoff_r, size_t *consumed_r)
{
	const size_t magic_len = strlen(LOGIN_HANDOFF_MAGIC);
	const unsigned char *lf;
	const char *const *args;
	unsigned int i, count;

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
	count = str_array_length(args);
	for (i = 1; i < count; i++) {
		if (strcmp(args[i], "sdps") == 0 && !handoff_r->sdps &&
		    i + 2 < count && args[i + 2][0] != '\0') {
			handoff_r->sdps = TRUE;
			handoff_r->sdps_user = args[i + 1];
			handoff_r->sdps_host = args[i + 2];
			i += 2;
		} else if (strcmp(args[i], "user") == 0 &&
			   !handoff_r->capa_user) {
			handoff_r->capa_user = TRUE;
		} else if (strcmp(args[i], "sasl") == 0 &&
			   handoff_r->capa_sasl_mechs == NULL &&
			   i + 1 < count) {
			handoff_r->capa_sasl_mechs =
				t_strsplit_spaces(args[i + 1], " ");
			i++;
		} else {
			return -1;
		}
	}
	*consumed_r = lf - data + 1;
	return 1;
}
