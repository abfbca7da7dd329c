/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of the login handoff's CAPA items (module/lib/login-handoff.c)
   and of the KPOP service list check (include/kpop-services.h) */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "login-handoff.h"
#include "kpop-services.h"

/* parse a whole handoff line given as a C string */
static int handoff_parse_str(const char *line, struct login_handoff *out)
{
	size_t consumed;
	const char *version;
	int ret;

	ret = login_handoff_parse((const void *)line, strlen(line), out,
				  &consumed, &version);
	if (ret == 1 && consumed != strlen(line))
		return -2;
	return ret;
}

static void test_login_handoff_capa(void)
{
	const char *const mechs[] = { "PLAIN", "LOGIN", "SCRAM-SHA-256", NULL };
	struct login_handoff in = { .sdps = TRUE, .sdps_user = "",
				    .sdps_host = "host", .capa_user = TRUE,
				    .capa_sasl_mechs = mechs }, out;
	string_t *str = t_str_new(128);
	size_t consumed;
	const char *version;

	test_begin("login handoff CAPA items");
	login_handoff_append(str, &in);
	str_append(str, "CAPA\r\n");
	test_assert(login_handoff_parse(str_data(str), str_len(str), &out,
					&consumed, &version) == 1);
	test_assert(consumed == str_len(str) - 6);
	test_assert(out.sdps && out.capa_user);
	test_assert_strcmp(out.sdps_user, "");
	test_assert_strcmp(out.sdps_host, "host");
	test_assert(out.capa_sasl_mechs != NULL &&
		    str_array_length(out.capa_sasl_mechs) == 3);
	test_assert_strcmp(out.capa_sasl_mechs[2], "SCRAM-SHA-256");

	/* no USER, no SASL: neither item */
	str_truncate(str, 0);
	i_zero(&in);
	login_handoff_append(str, &in);
	test_assert_strcmp(str_c(str), LOGIN_HANDOFF_MAGIC"\n");
	test_assert(login_handoff_parse(str_data(str), str_len(str), &out,
					&consumed, &version) == 1);
	test_assert(!out.capa_user && out.capa_sasl_mechs == NULL);

	/* items in any order; each at most once */
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tsasl\tPLAIN\tuser\n",
				      &out) == 1 && out.capa_user &&
		    out.capa_sasl_mechs != NULL &&
		    str_array_length(out.capa_sasl_mechs) == 1);
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tuser\tuser\n",
				      &out) < 0);
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tsasl\n", &out) < 0);
	test_end();
}

static void test_login_handoff_lang(void)
{
	struct login_handoff in = { .lang = POP3_LANG_IT }, out;
	string_t *str = t_str_new(128);
	size_t consumed;
	const char *version;

	test_begin("login handoff RFC 6856 LANG item and version");
	login_handoff_append(str, &in);
	test_assert_strcmp(str_c(str), LOGIN_HANDOFF_MAGIC"\tlang\tit\n");
	test_assert(login_handoff_parse(str_data(str), str_len(str), &out,
					&consumed, &version) == 1);
	test_assert(out.lang == POP3_LANG_IT);
	/* the default language is not sent */
	str_truncate(str, 0);
	in.lang = POP3_LANG_DEFAULT;
	login_handoff_append(str, &in);
	test_assert_strcmp(str_c(str), LOGIN_HANDOFF_MAGIC"\n");
	/* a language this version doesn't have, twice, or none */
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tlang\tde\n", &out) == -1);
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tlang\tit\tlang\tit\n",
				      &out) == -1);
	test_assert(handoff_parse_str("ALTPOP-HANDOFF 2\tlang\n", &out) == -1);
	/* another version's handoff: -2 and what it says */
	test_assert(login_handoff_parse((const void *)"ALTPOP-HANDOFF 1\tuser\n",
					22, &out, &consumed, &version) == -2);
	test_assert_strcmp(version, "1");
	test_assert(consumed == 0);
	test_end();
}

static void test_kpop_services_check(void)
{
	const char *error;

	test_begin("KPOP service list check");
	test_assert(kpop_services_check(KPOP_SERVICES_DEFAULT, &error));
	test_assert(kpop_services_check(" pop3 ", &error));
	test_assert(!kpop_services_check("", &error));
	test_assert(!kpop_services_check("pop/host", &error));
	test_assert(!kpop_services_check("pop@REALM", &error));
	test_assert(!kpop_services_check("a b c d e f g h i", &error));
	test_assert(!kpop_services_check(
		"a23456789012345678901234567890123", &error));
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_login_handoff_capa,
		test_login_handoff_lang,
		test_kpop_services_check,
		NULL
	};
	return test_run(test_functions);
}
