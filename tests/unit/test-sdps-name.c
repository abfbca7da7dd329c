/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/sdps-name.c and module/lib/login-handoff.c */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "sdps-name.h"
#include "login-handoff.h"

static void test_sdps_name_parse_good(void)
{
	static const struct {
		const char *name, *user, *host;
	} tests[] = {
		{ "myhost", "", "myhost" },
		{ "myhost.demon.co.uk", "", "myhost.demon.co.uk" },
		{ "fred@myhost", "fred", "myhost" },
		{ "fred+myhost", "fred", "myhost" },
		{ "j.smith_2=x@host-1.example", "j.smith_2=x", "host-1.example" },
	};
	struct sdps_name name;
	const char *error;

	test_begin("sdps name parse: valid names");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		test_assert_idx(sdps_name_parse(tests[i].name, "@+", &name,
						&error) == 0, i);
		test_assert_strcmp_idx(name.user, tests[i].user, i);
		test_assert_strcmp_idx(name.host, tests[i].host, i);
	}
	/* with only '@' as separator, '+' is not allowed at all */
	test_assert(sdps_name_parse("a+b", "@", &name, &error) < 0);
	test_end();
}

static void test_sdps_name_parse_hostile(void)
{
	static const char *const bad[] = {
		"", "@host", "user@", "+", "a@b@c", "a+b@c", "a@@b",
		"us\ter@host", "user@ho\tst", "user@host..x", "user@.host",
		"user@host.", "us%{host}er@host", "user@ho%st", "us er@host",
		"user@-host", "\xc3\xa4@host", "a;b@host", "user@host/../x",
	};
	struct sdps_name name;
	const char *error;
	char *longname;

	test_begin("sdps name parse: hostile names");
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert_idx(sdps_name_parse(bad[i], "@+", &name, &error) < 0, i);
		test_assert_idx(error != NULL, i);
	}
	longname = t_malloc0(SDPS_NAME_MAX_LEN + 2);
	memset(longname, 'a', SDPS_NAME_MAX_LEN + 1);
	test_assert(sdps_name_parse(longname, "@+", &name, &error) < 0);
	longname = t_malloc0(SDPS_USER_MAX_LEN + 10);
	memset(longname, 'u', SDPS_USER_MAX_LEN + 1);
	longname[SDPS_USER_MAX_LEN + 1] = '@';
	longname[SDPS_USER_MAX_LEN + 2] = 'h';
	test_assert(sdps_name_parse(longname, "@+", &name, &error) < 0);
	test_end();
}

static void test_sdps_name_expand(void)
{
	const struct sdps_name name = { .user = "fred", .host = "myhost" };
	const struct sdps_name host_only = { .user = "", .host = "myhost" };
	const char *result, *error;

	test_begin("sdps name expand");
	test_assert(sdps_name_expand("%{host}", &name, &result, &error) == 0);
	test_assert_strcmp(result, "myhost");
	test_assert(sdps_name_expand("%{user}@%{host}", &name, &result,
				     &error) == 0);
	test_assert_strcmp(result, "fred@myhost");
	test_assert(sdps_name_expand("sdps-%{host}%%", &host_only, &result,
				     &error) == 0);
	test_assert_strcmp(result, "sdps-myhost%");
	test_assert(sdps_name_expand("%{nope}", &name, &result, &error) < 0);
	test_assert(sdps_name_expand("%{user}", &host_only, &result, &error) < 0);
	test_assert(sdps_template_has_user("%{user}@%{host}"));
	test_assert(!sdps_template_has_user("%{host}"));
	test_end();
}

static void test_login_handoff(void)
{
	struct login_handoff in = { .sdps = TRUE, .sdps_user = "fr\ted",
				    .sdps_host = "myhost" }, out;
	string_t *str = t_str_new(128);
	size_t consumed;
	const char *version;

	test_begin("login handoff round trip");
	login_handoff_append(str, &in);
	str_append(str, "STAT\r\n");
	test_assert(login_handoff_parse(str_data(str), str_len(str), &out,
					&consumed, &version) == 1);
	test_assert(out.sdps);
	test_assert_strcmp(out.sdps_user, "fr\ted");
	test_assert_strcmp(out.sdps_host, "myhost");
	test_assert(consumed == str_len(str) - 6);

	str_truncate(str, 0);
	i_zero(&in);
	login_handoff_append(str, &in);
	test_assert(login_handoff_parse(str_data(str), str_len(str), &out,
					&consumed, &version) == 1);
	test_assert(!out.sdps && consumed == str_len(str));

	/* client input without a handoff is left alone */
	test_assert(login_handoff_parse((const void *)"STAT\r\n", 6, &out,
					&consumed, &version) == 0 && consumed == 0);
	/* malformed ones are refused */
	test_assert(login_handoff_parse((const void *)"ALTPOP-HANDOFF 2\tx\n",
					19, &out, &consumed, &version) < 0);
	test_assert(login_handoff_parse((const void *)"ALTPOP-HANDOFF 2",
					16, &out, &consumed, &version) < 0);
	test_assert(login_handoff_parse((const void *)"ALTPOP-HANDOFF 22\n",
					18, &out, &consumed, &version) < 0);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_sdps_name_parse_good,
		test_sdps_name_parse_hostile,
		test_sdps_name_expand,
		test_login_handoff,
		NULL
	};
	return test_run(test_functions);
}
