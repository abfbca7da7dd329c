/* SPDX-License-Identifier: LGPL-2.1-only */
/* The login -> post-login handoff line. */

#include "lib.h"
#include "str.h"
#include "strescape.h"
#include "str-sanitize.h"
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
	if (handoff->lang != POP3_LANG_DEFAULT) {
		str_append(dest, "\tlang\t");
		str_append(dest, pop3_lang_tag(handoff->lang));
	}
	str_append_c(dest, '\n');
}

int login_handoff_parse(const unsigned char *data, size_t size,
			struct login_handoff *handoff_r, size_t *consumed_r,
			const char **version_r)
{
	const size_t prefix_len = strlen(LOGIN_HANDOFF_MAGIC_PREFIX);
	const unsigned char *lf;
	const char *const *args;
	unsigned int i, count;

	i_zero(handoff_r);
	*consumed_r = 0;
	*version_r = "";
	if (size < prefix_len ||
	    memcmp(data, LOGIN_HANDOFF_MAGIC_PREFIX, prefix_len) != 0)
		return 0;
	lf = memchr(data, '\n', I_MIN(size, LOGIN_HANDOFF_MAX_LEN));
	if (lf == NULL || memchr(data, '\0', lf - data) != NULL)
		return -1;
	args = t_strsplit_tabescaped(t_strndup(data, lf - data));
	if (strcmp(args[0], LOGIN_HANDOFF_MAGIC) != 0) {
		/* another version's (printable for the log) */
		*version_r = str_sanitize(args[0] + prefix_len,
					  LOGIN_HANDOFF_MAX_VERSION_LEN);
		return -2;
	}
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
		} else if (strcmp(args[i], "lang") == 0 &&
			   handoff_r->lang == POP3_LANG_DEFAULT &&
			   i + 1 < count &&
			   pop3_lang_find(args[i + 1], &handoff_r->lang)) {
			i++;
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
