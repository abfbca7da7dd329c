/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/uidl-unique.c */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "test-common.h"
#include "altpop-compat.h"
#include "altpop-limits.h"
#include "uidl-format.h"
#include "uidl-unique.h"

/* messages of a generated maildrop, and how many base UIDLs they share */
#define TEST_UIDL_MESSAGES 200
#define TEST_UIDL_BASES 7
/* longest "-N" after "-<uid>" the maildrop test allows for */
#define TEST_UIDL_MAX_N_LEN 4

/* The UIDLs taken so far. */
struct test_taken {
	ARRAY_TYPE(const_string) uidls;
	unsigned int calls;
};

static bool test_taken(const char *uidl, void *context)
{
	struct test_taken *ctx = context;
	const char *taken;

	ctx->calls++;
	array_foreach_elem(&ctx->uidls, taken) {
		if (strcmp(taken, uidl) == 0)
			return TRUE;
	}
	return FALSE;
}

static void test_taken_init(struct test_taken *ctx,
			    const char *const *uidls)
{
	i_zero(ctx);
	t_array_init(&ctx->uidls, 8);
	for (; uidls != NULL && *uidls != NULL; uidls++)
		array_push_back(&ctx->uidls, uidls);
}

/* base made unique for uid against the taken set (data stack) */
static const char *unique(struct test_taken *ctx, const char *base,
			  uint32_t uid, bool *renamed_r)
{
	string_t *str = t_str_new(80);

	str_append(str, base);
	*renamed_r = uidl_make_unique(str, uid, test_taken, ctx);
	return str_c(str);
}

static void test_uidl_unique_cases(void)
{
	static const char *const taken[] = {
		"abc", "abc-7", "abc-7-2", "x-9", NULL
	};
	struct test_taken ctx;
	bool renamed;

	test_begin("uidl unique: suffixes");
	test_taken_init(&ctx, taken);
	/* free: left alone, asked once */
	test_assert_strcmp(unique(&ctx, "free", 7, &renamed), "free");
	test_assert(!renamed && ctx.calls == 1);
	/* taken: the UID's own suffix */
	test_assert_strcmp(unique(&ctx, "x", 9, &renamed), "x");
	test_assert(!renamed);
	test_assert_strcmp(unique(&ctx, "abc", 8, &renamed), "abc-8");
	test_assert(renamed);
	/* the suffixed form taken too: -<uid>-2, then -<uid>-3 */
	test_assert_strcmp(unique(&ctx, "abc", 7, &renamed), "abc-7-3");
	test_assert(renamed);
	/* a base that looks like a suffixed form gets a suffix of its own */
	test_assert_strcmp(unique(&ctx, "x-9", 9, &renamed), "x-9-9");
	test_end();
}

static void test_uidl_unique_long(void)
{
	struct test_taken ctx;
	const char *base, *taken[3], *result;
	bool renamed;

	test_begin("uidl unique: the result stays within 70 characters");
	string_t *b = t_str_new(ALTPOP_UIDL_MAX_LEN);
	for (unsigned int i = 0; i < ALTPOP_UIDL_MAX_LEN; i++)
		str_append_c(b, 'a' + i % 26);
	base = str_c(b);

	taken[0] = base;
	taken[1] = NULL;
	test_taken_init(&ctx, taken);
	result = unique(&ctx, base, 4294967295U, &renamed);
	test_assert(renamed);
	test_assert(strlen(result) == ALTPOP_UIDL_MAX_LEN);
	test_assert(altpop_str_begins(result + ALTPOP_UIDL_MAX_LEN - 11,
				    "-4294967295"));
	test_assert(strncmp(result, base, ALTPOP_UIDL_MAX_LEN - 11) == 0);
	test_assert(uidl_is_valid(result, strlen(result)));

	/* the cut base with the suffix is taken as well: -<uid>-2, cut
	   once more */
	taken[1] = t_strdup(result);
	taken[2] = NULL;
	test_taken_init(&ctx, taken);
	result = unique(&ctx, base, 4294967295U, &renamed);
	test_assert(strlen(result) == ALTPOP_UIDL_MAX_LEN);
	test_assert(altpop_str_begins(result + ALTPOP_UIDL_MAX_LEN - 13,
				    "-4294967295-2"));
	test_assert(uidl_is_valid(result, strlen(result)));
	test_end();
}

/* A maildrop whose messages share a few base UIDLs (some of them look
   like suffixed forms of others): every message ends up with a UIDL no
   earlier one has, valid, and a renamed one is its base (cut to fit)
   followed by its own "-<uid>". */
static void test_uidl_unique_maildrop(void)
{
	const char *bases[TEST_UIDL_BASES] = {
		"a", "a-3", "dup", "a-3-2", NULL, "z", "b-1",
	};
	struct test_taken ctx;
	const char *uidl;
	bool renamed, ok = TRUE;

	test_begin("uidl unique: a maildrop of shared UIDLs");
	/* a base as long as a UIDL may be */
	string_t *longest = t_str_new(ALTPOP_UIDL_MAX_LEN);
	str_append_max(longest, "0123456789012345678901234567890123456789"
		       "0123456789012345678901234567890123456789",
		       ALTPOP_UIDL_MAX_LEN);
	bases[4] = str_c(longest);

	test_taken_init(&ctx, NULL);
	for (uint32_t uid = 1; uid <= TEST_UIDL_MESSAGES && ok; uid++) {
		const char *base = bases[(uid * 5) % TEST_UIDL_BASES];
		size_t base_keep;

		uidl = unique(&ctx, base, uid, &renamed);
		ok = !test_taken(uidl, &ctx) &&
			uidl_is_valid(uidl, strlen(uidl));
		/* renamed: base (cut) + "-<uid>" [+ "-N"] */
		const char *uid_suffix = t_strdup_printf("-%u", uid);
		base_keep = !renamed ? strlen(base) :
			I_MIN(strlen(base), ALTPOP_UIDL_MAX_LEN -
			      strlen(uid_suffix) - TEST_UIDL_MAX_N_LEN);
		ok = ok && strncmp(uidl, base, base_keep) == 0;
		if (renamed)
			ok = ok && strstr(uidl + base_keep, uid_suffix) != NULL;
		test_assert_idx(ok, uid);
		uidl = t_strdup(uidl);
		array_push_back(&ctx.uidls, &uidl);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_uidl_unique_cases,
		test_uidl_unique_long,
		test_uidl_unique_maildrop,
		NULL
	};
	return test_run(test_functions);
}
