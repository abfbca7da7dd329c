/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/expire-policy.c: altpop_expire's values, the
   CAPA argument, and when a retrieved message is due for removal. */

#include "lib.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "expire-policy.h"

#define DAY EXPIRE_POLICY_SECS_PER_DAY
#define NOW ((time_t)1700000000)

static void test_expire_policy_parse(void)
{
	static const struct {
		const char *value;
		int days;
		const char *capa;
	} good[] = {
		{ "", EXPIRE_POLICY_OFF, NULL },
		{ "never", EXPIRE_POLICY_NEVER, "NEVER" },
		{ "NEVER", EXPIRE_POLICY_NEVER, "NEVER" },
		{ "0", 0, "0" },
		{ "30", 30, "30" },
		{ "36500", 36500, "36500" },
	};
	static const char *const bad[] = {
		"-1", "36501", "30 days", " 30", "30d", "nevermore", "4294967296",
		"0x10",
	};
	const char *error;
	int days;

	test_begin("expire_policy_parse");
	for (unsigned int i = 0; i < N_ELEMENTS(good); i++) {
		days = 12345;
		test_assert_idx(expire_policy_parse(good[i].value, &days,
						    &error) == 0, i);
		test_assert_cmp_idx(days, ==, good[i].days, i);
		if (good[i].capa == NULL)
			test_assert_idx(expire_policy_capa(days) == NULL, i);
		else {
			test_assert_strcmp_idx(expire_policy_capa(days),
					       good[i].capa, i);
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		error = NULL;
		test_assert_idx(expire_policy_parse(bad[i], &days,
						    &error) < 0, i);
		/* the error quotes the value and says what is accepted */
		test_assert_idx(error != NULL &&
				strstr(error, t_strdup_printf("'%s'", bad[i])) != NULL &&
				strstr(error, "days from 0 to 36500") != NULL, i);
	}
	test_end();
}

static void test_expire_policy_setting_check(void)
{
	const char *error = NULL;
	int days = 12345;

	test_begin("expire_policy_setting_check");
	test_assert(expire_policy_setting_check("7", &days, &error));
	test_assert(days == 7);
	test_assert(expire_policy_setting_check("", &days, &error));
	test_assert(days == EXPIRE_POLICY_OFF);
	/* the error names the setting (both processes' checks use this) */
	test_assert(!expire_policy_setting_check("30 days", &days, &error));
	test_assert(error != NULL &&
		    altpop_str_begins(error, "altpop_expire: invalid value "
				      "'30 days'"));
	test_end();
}

static void test_expire_policy_is_due(void)
{
	test_begin("expire_policy_is_due");
	/* off and never remove nothing, however old */
	test_assert(!expire_policy_is_due(EXPIRE_POLICY_OFF, 0, NOW));
	test_assert(!expire_policy_is_due(EXPIRE_POLICY_NEVER, 0, NOW));
	/* 0: due at once */
	test_assert(expire_policy_is_due(0, NOW, NOW));
	/* n days: due exactly n days after the first retrieval */
	test_assert(!expire_policy_is_due(3, NOW - 3*DAY + 1, NOW));
	test_assert(expire_policy_is_due(3, NOW - 3*DAY, NOW));
	test_assert(expire_policy_is_due(3, NOW - 30*DAY, NOW));
	/* a first retrieval in the future (clocks differ) is not due */
	test_assert(!expire_policy_is_due(1, NOW + 60, NOW));
	/* the longest policy does not overflow */
	test_assert(!expire_policy_is_due(EXPIRE_POLICY_MAX_DAYS, 0, NOW));
	test_assert(expire_policy_is_due(EXPIRE_POLICY_MAX_DAYS, 0,
		(time_t)EXPIRE_POLICY_MAX_DAYS * DAY));
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_expire_policy_parse,
		test_expire_policy_setting_check,
		test_expire_policy_is_due,
		NULL
	};
	return test_run(test_functions);
}
