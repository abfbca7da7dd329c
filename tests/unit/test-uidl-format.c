/* SPDX-License-Identifier: LGPL-2.1-only */
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
	test_assert_strcmp(expand("courier", &vars), "UID26-1700000000");
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

static void test_uidl_format_is_injective(void)
{
	test_begin("uidl_format_is_injective");
	test_assert(uidl_format_is_injective("%08Xu%08Xv"));
	test_assert(uidl_format_is_injective("%v.%u"));
	test_assert(uidl_format_is_injective("x%{uid}-%4v"));
	test_assert(!uidl_format_is_injective("%1u"));
	test_assert(!uidl_format_is_injective("%m"));
	test_assert(!uidl_format_is_injective("%u%g"));
	test_assert(!uidl_format_is_injective("%v"));
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

/* reproducible pseudo-random numbers (xorshift32) */
static uint32_t prop_state = 1234567;
static unsigned int prop_rand(void)
{
	prop_state ^= prop_state << 13;
	prop_state ^= prop_state >> 17;
	prop_state ^= prop_state << 5;
	return prop_state & 0x7fffffff;
}

/* Property: any format string is either refused at config time or
   expands to a valid UIDL or a clean error - never to an invalid UIDL. */
static void test_uidl_format_property(void)
{
	static const char alphabet[] =
		"%%%%uvmfgX0123456789{}ULxyz-._ \t\x7f\xc3";
	static const char *const md5s[] = {
		"0123456789abcdef0123456789abcdef", "", NULL, "x y",
	};
	unsigned int resolved = 0, expanded = 0, i, j, len;
	string_t *str = t_str_new(256);
	char format[24];
	const char *fmt, *error;

	test_begin("uidl format property (random formats)");
	for (i = 0; i < 200000; i++) {
		len = 1 + prop_rand() % (sizeof(format) - 1);
		for (j = 0; j < len; j++)
			format[j] = alphabet[prop_rand() % (sizeof(alphabet) - 1)];
		format[len] = '\0';
		if (uidl_format_resolve(format, &fmt, &error) < 0)
			continue;
		resolved++;
		struct uidl_vars vars = {
			.uid = (uint32_t)prop_rand(), .uidvalidity = (uint32_t)prop_rand(),
			.md5 = md5s[prop_rand() % N_ELEMENTS(md5s)],
			.filename = "1700000000.M1P2.host:2,S",
			.guid = md5s[prop_rand() % N_ELEMENTS(md5s)],
		};
		str_truncate(str, 0);
		if (uidl_format_expand(str, fmt, &vars, &error) < 0)
			continue;
		expanded++;
		test_assert_idx(uidl_is_valid(str_c(str), str_len(str)), i);
	}
	/* the generator must reach both outcomes to mean anything */
	test_assert(resolved > 100 && expanded > 100);
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
		test_uidl_format_is_injective,
		test_uidl_format_property,
		NULL
	};
	return test_run(test_functions);
}
