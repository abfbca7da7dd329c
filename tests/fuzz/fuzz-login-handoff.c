/* SPDX-License-Identifier: LGPL-2.1-only */
/* Fuzz target: the login -> mail handoff line
   (module/lib/login-handoff.c): the parser on any bytes, and
   encode -> parse round trips of fuzzer-chosen user and host names. */

#include "lib.h"
#include "str.h"
#include "login-handoff.h"
#include "fuzz-common.h"

static unsigned int mechs_count(const char *const *mechs)
{
	return mechs == NULL ? 0 : str_array_length(mechs);
}

static void handoff_round_trip(const struct login_handoff *handoff,
			       const char *pipelined)
{
	struct login_handoff parsed;
	string_t *str = t_str_new(128);
	size_t consumed, line_len;
	const char *version;
	int ret;

	login_handoff_append(str, handoff);
	line_len = str_len(str);
	str_append(str, pipelined);
	ret = login_handoff_parse(str_data(str), str_len(str), &parsed,
				  &consumed, &version);
	if (line_len > LOGIN_HANDOFF_MAX_LEN ||
	    (handoff->sdps && handoff->sdps_host[0] == '\0')) {
		/* the login process never sends these */
		i_assert(ret == -1);
		return;
	}
	i_assert(ret == 1);
	i_assert(consumed == line_len);
	i_assert(parsed.sdps == handoff->sdps);
	if (handoff->sdps) {
		i_assert(strcmp(parsed.sdps_user, handoff->sdps_user) == 0);
		i_assert(strcmp(parsed.sdps_host, handoff->sdps_host) == 0);
	}
	i_assert(parsed.capa_user == handoff->capa_user);
	i_assert(parsed.lang == handoff->lang);
	/* NULL and an empty list both mean no SASL line */
	i_assert(mechs_count(parsed.capa_sasl_mechs) ==
		 mechs_count(handoff->capa_sasl_mechs));
	for (unsigned int i = 0; i < mechs_count(parsed.capa_sasl_mechs); i++) {
		i_assert(strcmp(parsed.capa_sasl_mechs[i],
				handoff->capa_sasl_mechs[i]) == 0);
	}
}

void fuzz_one(const unsigned char *data, size_t size)
{
	struct login_handoff handoff, parsed;
	const char *str, *tab;
	size_t consumed;
	const char *version;
	int ret;

	ret = login_handoff_parse(data, size, &parsed, &consumed, &version);
	if (ret > 0) {
		i_assert(consumed > 0 && consumed <= size &&
			 consumed <= LOGIN_HANDOFF_MAX_LEN);
		i_assert(data[consumed - 1] == '\n');
		if (parsed.sdps)
			i_assert(parsed.sdps_host[0] != '\0');
		/* what was parsed encodes to the same meaning */
		handoff_round_trip(&parsed, "");
	} else {
		i_assert(consumed == 0);
	}

	/* round trip: "user NUL host NUL pipelined input" */
	str = fuzz_str(data, size);
	i_zero(&handoff);
	handoff.sdps = TRUE;
	handoff.sdps_user = str;
	tab = strlen(str) < size ? fuzz_str(data + strlen(str) + 1,
					    size - strlen(str) - 1) : "";
	handoff.sdps_host = tab;
	handoff.capa_user = (size & 1) != 0;
	handoff.capa_sasl_mechs = t_strsplit_spaces("PLAIN LOGIN GSSAPI", " ");
	handoff_round_trip(&handoff, "CAPA\r\n");
	i_zero(&handoff);
	handoff_round_trip(&handoff, str);
}
