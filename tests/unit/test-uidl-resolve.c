/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unit tests of module/lib/uidl-resolve.c: the order of UIDL sources,
   uniqueness over a maildrop and what is saved in the UIDL map. */

#include "lib.h"
#include "str.h"
#include "test-common.h"
#include "uidl-resolve.h"

/* One message as the storage and the map would show it. */
struct test_message {
	const char *stored;	/* "" none */
	const char *guid;	/* NULL: the lookup fails */
	const char *map_uidl;	/* NULL: no map entry */
	bool guid_has_entry;
	const char *expanded;	/* NULL: the expansion fails */
	const char *header;	/* X-UIDL, "" none (NULL: as "") */

	/* what the rules asked */
	unsigned int guid_calls, expand_calls, invalid_calls;
	const char *expand_guid;
};

static int test_stored(void *context, const char **uidl_r)
{
	struct test_message *msg = context;

	*uidl_r = msg->stored;
	return 0;
}

static int test_header(void *context, const char **uidl_r)
{
	struct test_message *msg = context;

	*uidl_r = msg->header == NULL ? "" : msg->header;
	return 0;
}

static void test_invalid(void *context, const char *what ATTR_UNUSED,
			 const char *uidl ATTR_UNUSED)
{
	struct test_message *msg = context;

	msg->invalid_calls++;
}

static int test_guid(void *context, const char **guid_r)
{
	struct test_message *msg = context;

	msg->guid_calls++;
	*guid_r = msg->guid;
	return msg->guid == NULL ? -1 : 0;
}

static const char *test_map_lookup(void *context, const char *guid)
{
	struct test_message *msg = context;

	test_assert_strcmp(guid, msg->guid);
	return msg->map_uidl;
}

static bool test_map_guid_has_entry(void *context, const char *guid)
{
	struct test_message *msg = context;

	test_assert_strcmp(guid, msg->guid);
	return msg->guid_has_entry;
}

static int test_expand(void *context, const char *guid, const char **uidl_r)
{
	struct test_message *msg = context;

	msg->expand_calls++;
	msg->expand_guid = guid;
	/* as the storage's expansion does: a data stack string */
	*uidl_r = msg->expanded == NULL ? NULL : t_strdup(msg->expanded);
	return msg->expanded == NULL ? -1 : 0;
}

/* what the rules keep (they allocate in frames of their own) */
static pool_t test_pool;

static const struct uidl_resolve_sources test_sources = {
	.stored = test_stored,
	.header = test_header,
	.invalid = test_invalid,
	.guid = test_guid,
	.map_lookup = test_map_lookup,
	.map_guid_has_entry = test_map_guid_has_entry,
	.expand = test_expand,
};

static int test_read(struct test_message *msg,
		     const struct uidl_resolve_policy *policy,
		     bool permanent_only, struct uidl_resolve_item *item_r)
{
	i_zero(item_r);
	item_r->seq = item_r->uid = 1;
	return uidl_resolve_item_read(&test_sources, msg, policy,
				      permanent_only, test_pool,
				      item_r);
}

static void test_uidl_resolve_sources(void)
{
	const struct uidl_resolve_policy plain = { .map_nonempty = FALSE };
	const struct uidl_resolve_policy with_map = { .map_nonempty = TRUE };
	const struct uidl_resolve_policy save = { .save_all = TRUE };
	const struct uidl_resolve_policy guid_format = {
		.format_needs_guid = TRUE,
	};
	struct uidl_resolve_item item;

	test_begin("uidl resolve: a valid stored UIDL comes first");
	struct test_message m1 = {
		.stored = "stored-1", .guid = "g1", .map_uidl = "mapped",
		.expanded = "fmt",
	};
	test_assert(test_read(&m1, &with_map, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "stored-1");
	test_assert(item.permanent && item.guid == NULL);
	/* nothing else is asked */
	test_assert(m1.guid_calls == 0 && m1.expand_calls == 0);
	test_end();

	test_begin("uidl resolve: an invalid stored UIDL is passed over");
	struct test_message m2 = {
		.stored = "has space", .guid = "g2", .map_uidl = "mapped-2",
		.expanded = "fmt",
	};
	test_assert(test_read(&m2, &with_map, FALSE, &item) == 1);
	test_assert(m2.invalid_calls == 1);
	test_assert_strcmp(item.uidl, "mapped-2");
	test_assert_strcmp(item.guid, "g2");
	test_assert(item.permanent && m2.expand_calls == 0);
	test_end();

	test_begin("uidl resolve: the map before the format");
	struct test_message m3 = {
		.stored = "", .guid = "g3", .expanded = "fmt-3",
		.guid_has_entry = TRUE,
	};
	test_assert(test_read(&m3, &with_map, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "fmt-3");
	test_assert(!item.permanent);
	/* the GUID was needed for the map: it goes to the format too, and
	   another message holds the GUID's plain entry */
	test_assert_strcmp(item.guid, "g3");
	test_assert_strcmp(m3.expand_guid, "g3");
	test_assert(item.guid_shared);
	test_end();

	test_begin("uidl resolve: the GUID only when something needs it");
	struct test_message m4 = { .stored = "", .guid = "g4",
				   .expanded = "fmt-4" };
	test_assert(test_read(&m4, &plain, FALSE, &item) == 1);
	test_assert(m4.guid_calls == 0 && item.guid == NULL);
	test_assert(m4.expand_guid == NULL);
	test_assert(test_read(&m4, &save, FALSE, &item) == 1);
	test_assert(m4.guid_calls == 1 && item.guid != NULL);
	test_assert(test_read(&m4, &guid_format, FALSE, &item) == 1);
	test_assert(m4.guid_calls == 2);
	test_assert_strcmp(m4.expand_guid, "g4");
	test_end();

	test_begin("uidl resolve: permanent only");
	struct test_message m5 = { .stored = "", .guid = "g5",
				   .expanded = "fmt-5" };
	/* an empty map and no stored UIDL: nothing to ask at all */
	test_assert(test_read(&m5, &save, TRUE, &item) == 0);
	test_assert(m5.guid_calls == 0 && m5.expand_calls == 0);
	test_assert(test_read(&m5, &with_map, TRUE, &item) == 0);
	test_assert(m5.guid_calls == 1 && m5.expand_calls == 0);
	m5.map_uidl = "mapped-5";
	test_assert(test_read(&m5, &with_map, TRUE, &item) == 1);
	test_assert_strcmp(item.uidl, "mapped-5");
	test_end();

	test_begin("uidl resolve: X-UIDL after the map, before the format");
	const struct uidl_resolve_policy xuidl = {
		.map_nonempty = TRUE, .reuse_xuidl = TRUE,
	};
	struct test_message m7 = { .stored = "", .guid = "g7",
				   .header = "from-header", .expanded = "fmt" };
	/* not asked without the setting */
	test_assert(test_read(&m7, &with_map, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "fmt");
	test_assert(test_read(&m7, &xuidl, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "from-header");
	/* generated, not permanent: it can be saved and renamed */
	test_assert(!item.permanent && m7.expand_calls == 1);
	m7.map_uidl = "mapped-7";
	test_assert(test_read(&m7, &xuidl, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "mapped-7");
	/* an X-UIDL that is no UIDL: reported, and the format instead */
	m7.map_uidl = NULL;
	m7.header = "two words";
	test_assert(test_read(&m7, &xuidl, FALSE, &item) == 1);
	test_assert_strcmp(item.uidl, "fmt");
	test_assert(m7.invalid_calls == 1);
	test_end();

	test_begin("uidl resolve: a source's error is the item's");
	struct test_message m6 = { .stored = "", .guid = NULL,
				   .expanded = "fmt" };
	test_assert(test_read(&m6, &with_map, FALSE, &item) == -1);
	m6.guid = "g6";
	m6.expanded = NULL;
	test_assert(test_read(&m6, &with_map, FALSE, &item) == -1);
	test_end();
}

static void test_uidl_resolve_trivial(void)
{
	struct uidl_resolve_item items[2] = {
		{ .seq = 1, .uid = 1, .uidl = "1" },
		{ .seq = 2, .uid = 2, .uidl = "2" },
	};

	test_begin("uidl resolve: when no table is needed");
	test_assert(uidl_resolve_is_trivial(items, 2, FALSE, TRUE));
	test_assert(!uidl_resolve_is_trivial(items, 2, TRUE, TRUE));
	test_assert(!uidl_resolve_is_trivial(items, 2, FALSE, FALSE));
	items[1].permanent = TRUE;
	test_assert(!uidl_resolve_is_trivial(items, 2, FALSE, TRUE));
	test_assert(uidl_resolve_is_trivial(items, 0, FALSE, TRUE));

	/* trivial: nothing renamed, everything generated saved with
	   save_all only */
	items[1].permanent = FALSE;
	struct uidl_resolve_rules rules = { .trivial = TRUE };
	uidl_resolve(items, 2, &rules, test_pool);
	test_assert(!items[0].save && !items[1].save);
	rules.save_all = TRUE;
	uidl_resolve(items, 2, &rules, test_pool);
	test_assert(items[0].save && items[1].save);
	test_assert_strcmp(items[1].uidl, "2");
	test_end();
}

static bool test_reserved(const char *uidl, void *context)
{
	const char *const *reserved = context;

	for (; *reserved != NULL; reserved++) {
		if (strcmp(*reserved, uidl) == 0)
			return TRUE;
	}
	return FALSE;
}

static void test_uidl_resolve_unique(void)
{
	static const char *const reserved[] = { "kept", "perm", "kept-2", NULL };
	struct uidl_resolve_item items[] = {
		/* a generated UIDL equal to a later message's permanent
		   one: the permanent one keeps it */
		{ .seq = 1, .uid = 10, .uidl = "perm" },
		{ .seq = 2, .uid = 11, .uidl = "dup" },
		{ .seq = 3, .uid = 12, .uidl = "dup" },
		{ .seq = 4, .uid = 13, .uidl = "perm", .permanent = TRUE },
		/* the map keeps "kept" for another message */
		{ .seq = 5, .uid = 14, .uidl = "kept" },
		{ .seq = 6, .uid = 15, .uidl = "own", .guid_shared = TRUE },
		/* a permanent UIDL the map holds is its own */
		{ .seq = 7, .uid = 16, .uidl = "kept-2", .permanent = TRUE },
	};
	const char *const expected[] = {
		"perm-10", "dup", "dup-12", "perm", "kept-14", "own", "kept-2",
	};
	const bool saved[] = { TRUE, FALSE, TRUE, FALSE, TRUE, TRUE, FALSE };
	unsigned int i, count = N_ELEMENTS(items);

	test_begin("uidl resolve: unique over a maildrop");
	test_assert(!uidl_resolve_is_trivial(items, count, FALSE, TRUE));
	const struct uidl_resolve_rules rules = {
		.reserved = test_reserved, .context = (void *)reserved,
	};
	uidl_resolve(items, count, &rules, test_pool);
	for (i = 0; i < count; i++) {
		test_assert_strcmp_idx(items[i].uidl, expected[i], i);
		test_assert_idx(items[i].save == saved[i], i);
	}
	test_end();

	test_begin("uidl resolve: save_all saves every generated UIDL");
	struct uidl_resolve_item again[] = {
		{ .seq = 1, .uid = 1, .uidl = "a" },
		{ .seq = 2, .uid = 2, .uidl = "a", .permanent = TRUE },
	};
	const struct uidl_resolve_rules save_all = { .save_all = TRUE };
	uidl_resolve(again, 2, &save_all, test_pool);
	test_assert_strcmp(again[0].uidl, "a-1");
	test_assert_strcmp(again[1].uidl, "a");
	test_assert(again[0].save && !again[1].save);
	test_end();
}

static void test_uidl_resolve_duplicates_modes(void)
{
	const char *const bases[] = {
		"a", "b", "a", "a-2", "a", "p", "a-2",
	};
	/* Dovecot pop3's "rename": in sequence order, the n-th holder of a
	   UIDL gets "-n" (and "a-2" already taken by message 4 gives the
	   next one "a-2-2"); a permanent UIDL is renamed alike */
	const char *const renamed[] = {
		"a", "b", "a-2", "a-2-2", "a-3", "p", "a-2-3",
	};
	struct uidl_resolve_item items[N_ELEMENTS(bases)];
	unsigned int i;

	test_begin("uidl resolve: altpop_uidl_duplicates = allow");
	i_zero(&items);
	for (i = 0; i < N_ELEMENTS(bases); i++) {
		items[i].seq = items[i].uid = i + 1;
		items[i].uidl = bases[i];
	}
	items[5].permanent = TRUE;
	items[6].guid_shared = TRUE;
	const struct uidl_resolve_rules allow = {
		.duplicates = POP3_UIDL_DUPLICATES_ALLOW,
	};
	uidl_resolve(items, N_ELEMENTS(items), &allow, test_pool);
	for (i = 0; i < N_ELEMENTS(bases); i++) {
		test_assert_strcmp_idx(items[i].uidl, bases[i], i);
		/* only the shared GUID's is remembered */
		test_assert_idx(items[i].save == (i == 6), i);
	}
	test_end();

	test_begin("uidl resolve: altpop_uidl_duplicates = rename");
	const struct uidl_resolve_rules rename = {
		.duplicates = POP3_UIDL_DUPLICATES_RENAME,
	};
	uidl_resolve(items, N_ELEMENTS(items), &rename, test_pool);
	for (i = 0; i < N_ELEMENTS(bases); i++) {
		test_assert_strcmp_idx(items[i].uidl, renamed[i], i);
		test_assert_idx(items[i].save == (i == 6), i);
	}
	test_end();
}

int main(void)
{
	static void (*const test_functions[])(void) = {
		test_uidl_resolve_sources,
		test_uidl_resolve_trivial,
		test_uidl_resolve_unique,
		test_uidl_resolve_duplicates_modes,
		NULL
	};
	int ret;

	test_pool = pool_alloconly_create("test uidl resolve", 1024);
	ret = test_run(test_functions);
	pool_unref(&test_pool);
	return ret;
}
