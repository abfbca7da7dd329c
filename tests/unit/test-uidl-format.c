/* Unit tests of module/lib/uidl-format.c */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "uidl-format.h"

static const char *expand(const char *setting, const struct uidl_vars *vars)
{
	const char *format, *error;
	string_t *str = t_str_new(64);

	if (uidl_format_resolve(setting, &format, &error) < 0)
		return NULL;
	if (uidl_format_expand(str, format, vars, &error) < 0)
		return NULL;
	return str_c(str);
}

static void test_uidl_presets(void)
{
	const struct uidl_vars vars = {
		.uid = 26, .uidvalidity = 1700000000,
		.md5 = "0123456789abcdef0123456789abcdef",
		.filename = "1700000000.M1P2.host",
		.guid = "a1b2c3",
	};

	test_begin("uidl presets");
	/* stock Dovecot pop3 default %08Xu%08Xv: lower-case hex, padded */
	test_assert_strcmp(expand("dovecot", &vars), "0000001a6553f100");
	test_assert_strcmp(expand("cyrus", &vars), "1700000000.26");
	test_assert_strcmp(expand("courier", &vars), "1700000000-26");
	test_assert_strcmp(expand("uw", &vars), "6553f1000000001a");
	test_end();
}

static void test_uidl_custom(void)
{
	const struct uidl_vars vars = {
		.uid = 7, .uidvalidity = 99,
		.md5 = "0123456789abcdef0123456789abcdef",
		.filename = "1700000000.M1P2.host",
		.guid = "a1b2c3",
	};

	test_begin("uidl custom formats");
	test_assert_strcmp(expand("%m", &vars), vars.md5);
	test_assert_strcmp(expand("%{guid}-%{uid}", &vars), "a1b2c3-7");
	test_assert_strcmp(expand("%f", &vars), vars.filename);
	test_assert_strcmp(expand("x%%%u", &vars), "x%7");
	/* width without 0 truncates, with 0 pads */
	test_assert_strcmp(expand("%4m", &vars), "0123");
	test_assert_strcmp(expand("%05u", &vars), "00007");
	test_assert_strcmp(expand("%Um", &vars), "0123456789ABCDEF0123456789ABCDEF");
	test_end();
}

static void test_uidl_bad_formats(void)
{
	static const char *const bad[] = {
		"unknown-preset", "%", "%q", "%{nope}", "%{uid", "%v",
		"a b%u", "%999u", "tab\t%u",
	};
	const char *format, *error;

	test_begin("uidl bad formats are config errors");
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert_idx(uidl_format_resolve(bad[i], &format, &error) < 0, i);
		test_assert_idx(error != NULL, i);
	}
	test_end();
}

static void test_uidl_expansion_validity(void)
{
	const struct uidl_vars vars_long = {
		.uid = 1, .uidvalidity = 1,
		.md5 = "0123456789abcdef0123456789abcdef",
	};
	const struct uidl_vars vars_missing = { .uid = 1, .uidvalidity = 1 };
	const char *error;
	string_t *str = t_str_new(128);

	test_begin("uidl expansion never gives an invalid UIDL");
	/* 3 x 32 = 96 characters: longer than 70 */
	test_assert(uidl_format_expand(str, "%m%m%m", &vars_long, &error) < 0);
	str_truncate(str, 0);
	test_assert(uidl_format_expand(str, "%m", &vars_missing, &error) < 0);
	test_assert(uidl_is_valid("abc", 3));
	test_assert(!uidl_is_valid("", 0));
	test_assert(!uidl_is_valid("a b", 3));
	test_assert(!uidl_is_valid("a\x7f", 2));
	test_end();
}

static void test_uidl_format_get_vars(void)
{
	test_begin("uidl_format_get_vars");
	test_assert(uidl_format_get_vars("%08Xu%08Xv") ==
		    (UIDL_VAR_UID | UIDL_VAR_UIDVALIDITY));
	test_assert(uidl_format_get_vars("%{md5}") == UIDL_VAR_MD5);
	test_assert(uidl_format_get_vars("%g%%") == UIDL_VAR_GUID);
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_uidl_presets,
		test_uidl_custom,
		test_uidl_bad_formats,
		test_uidl_expansion_validity,
		test_uidl_format_get_vars,
		NULL
	};
	return test_run(test_functions);
}
