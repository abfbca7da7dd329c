/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/login-delay-policy.c: which logins
   altpop_login_delay refuses, and the elapsed time reported. */

#include "lib.h"
#include "test-common.h"
#include "login-delay-policy.h"

#define NOW ((time_t)1700000000)

static void test_login_delay_refuses(void)
{
	static const struct {
		time_t last;
		unsigned int delay;
		bool refused;
		time_t elapsed;
	} tests[] = {
		/* off */
		{ NOW - 1, 0, FALSE, 1 },
		/* no login recorded */
		{ 0, 300, FALSE, NOW },
		/* within the delay */
		{ NOW, 300, TRUE, 0 },
		{ NOW - 299, 300, TRUE, 299 },
		/* the delay has passed */
		{ NOW - 300, 300, FALSE, 300 },
		{ NOW - 86400, 300, FALSE, 86400 },
		/* a little in the future (another server's clock): now */
		{ NOW + 10, 300, TRUE, 0 },
		{ NOW + 300, 300, TRUE, 0 },
		/* further in the future than the delay: nonsense, ignored */
		{ NOW + 301, 300, FALSE, 0 },
		/* the largest delay */
		{ NOW - 1, UINT_MAX, TRUE, 1 },
	};
	time_t elapsed;

	test_begin("login_delay_refuses");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		elapsed = -1;
		test_assert_idx(login_delay_refuses(tests[i].last, NOW,
				tests[i].delay, &elapsed) == tests[i].refused,
				i);
		test_assert_cmp_idx(elapsed, ==, tests[i].elapsed, i);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_login_delay_refuses,
		NULL
	};
	return test_run(test_functions);
}
