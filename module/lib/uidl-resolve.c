/* SPDX-License-Identifier: LGPL-2.1-only */
/* UIDL sources and uniqueness over a maildrop, apart from the storage:
   see include/uidl-resolve.h. */

#include "lib.h"
#include "hash.h"
#include "str.h"
#include "uidl-format.h"
#include "uidl-resolve.h"

/* UNIQUE: the UIDLs taken (the value is the key); RENAME: how many
   messages hold each UIDL or its renamed forms */
HASH_TABLE_DEFINE_TYPE(uidl_resolve_set, char *, void *);

int uidl_resolve_item_read(const struct uidl_resolve_sources *sources,
			   void *context,
			   const struct uidl_resolve_policy *policy,
			   bool permanent_only, pool_t pool,
			   struct uidl_resolve_item *item)
{
	const char *stored, *guid, *value;

	if (sources->stored(context, &stored) < 0)
		return -1;
	if (stored[0] != '\0') {
		if (uidl_is_valid(stored, strlen(stored))) {
			item->uidl = p_strdup(pool, stored);
			item->permanent = TRUE;
			return 1;
		}
		sources->invalid(context, "stored UIDL", stored);
	}
	/* the GUID is looked up only when something needs it */
	if (policy->map_nonempty ||
	    (!permanent_only &&
	     (policy->save_all || policy->format_needs_guid))) {
		if (sources->guid(context, &guid) < 0)
			return -1;
		if ((value = sources->map_lookup(context, guid)) != NULL) {
			item->guid = p_strdup(pool, guid);
			item->uidl = p_strdup(pool, value);
			item->permanent = TRUE;
			return 1;
		}
		if (permanent_only)
			return 0;
		item->guid = p_strdup(pool, guid);
		item->guid_shared = sources->map_guid_has_entry(context, guid);
	}
	if (permanent_only)
		return 0;
	if (policy->reuse_xuidl) {
		if (sources->header(context, &value) < 0)
			return -1;
		if (value[0] != '\0' && uidl_is_valid(value, strlen(value))) {
			item->uidl = p_strdup(pool, value);
			return 1;
		}
		if (value[0] != '\0')
			sources->invalid(context, "X-UIDL header", value);
	}
	if (sources->expand(context, item->guid, &value) < 0)
		return -1;
	item->uidl = p_strdup(pool, value);
	return 1;
}

bool uidl_resolve_is_trivial(const struct uidl_resolve_item *items,
			     unsigned int count, bool map_nonempty,
			     bool generated_injective)
{
	if (map_nonempty || !generated_injective)
		return FALSE;
	for (unsigned int i = 0; i < count; i++) {
		if (items[i].permanent)
			return FALSE;
	}
	return TRUE;
}

/* Who holds a UIDL while an item is resolved. */
struct uidl_resolve_taken_context {
	HASH_TABLE_TYPE(uidl_resolve_set) seen;
	const struct uidl_resolve_rules *rules;
	bool permanent;
};

static bool uidl_resolve_taken(const char *uidl, void *context)
{
	struct uidl_resolve_taken_context *ctx = context;

	if (hash_table_lookup(ctx->seen, uidl) != NULL)
		return TRUE;
	/* a new UIDL must not look like one the map keeps for another
	   message; a permanent one is that message's own */
	return !ctx->permanent && ctx->rules->reserved != NULL &&
		ctx->rules->reserved(uidl, ctx->rules->context);
}

/* POP3_UIDL_DUPLICATES_UNIQUE: item made unique against what ctx holds */
static bool uidl_resolve_unique(struct uidl_resolve_taken_context *ctx,
				struct uidl_resolve_item *item, pool_t pool)
{
	string_t *str = t_str_new(128);
	bool renamed;

	ctx->permanent = item->permanent;
	str_append(str, item->uidl);
	renamed = uidl_make_unique(str, item->uid, uidl_resolve_taken, ctx);
	if (renamed)
		item->uidl = p_strdup(pool, str_c(str));
	hash_table_insert(ctx->seen, (char *)item->uidl, POINTER_CAST(1));
	return renamed;
}

/* POP3_UIDL_DUPLICATES_RENAME: the table counts each UIDL's holders */
static void uidl_resolve_rename(struct uidl_resolve_taken_context *ctx,
				struct uidl_resolve_item *item, pool_t pool)
{
	string_t *str = t_str_new(128);
	char *key;
	void *value;
	unsigned int holders;
	bool renamed = FALSE;

	str_append(str, item->uidl);
	/* "x" taken: "x-<n>" for its next holder n; that one may be taken
	   too (another message's own UIDL), so ask again */
	while (hash_table_lookup_full(ctx->seen, str_c(str), &key, &value)) {
		holders = POINTER_CAST_TO(value, unsigned int) + 1;
		hash_table_update(ctx->seen, key, POINTER_CAST(holders));
		str_printfa(str, "-%u", holders);
		renamed = TRUE;
	}
	if (renamed)
		item->uidl = p_strdup(pool, str_c(str));
	hash_table_insert(ctx->seen, (char *)item->uidl, POINTER_CAST(1));
}

static void uidl_resolve_one(struct uidl_resolve_taken_context *ctx,
			     struct uidl_resolve_item *item, pool_t pool)
{
	bool renamed = FALSE;

	if (ctx->rules->duplicates == POP3_UIDL_DUPLICATES_RENAME)
		uidl_resolve_rename(ctx, item, pool);
	else
		renamed = uidl_resolve_unique(ctx, item, pool);
	item->save = !item->permanent &&
		(ctx->rules->save_all || renamed || item->guid_shared);
}

void uidl_resolve(struct uidl_resolve_item *items, unsigned int count,
		  const struct uidl_resolve_rules *rules, pool_t pool)
{
	struct uidl_resolve_taken_context ctx = { .rules = rules };
	bool unique = rules->duplicates == POP3_UIDL_DUPLICATES_UNIQUE;

	if (rules->trivial ||
	    rules->duplicates == POP3_UIDL_DUPLICATES_ALLOW) {
		/* nothing can collide (the usual case), or it may: no
		   table, which keeps large maildrops small */
		for (unsigned int i = 0; i < count; i++) {
			items[i].save = !items[i].permanent &&
				(rules->save_all || items[i].guid_shared);
		}
		return;
	}
	hash_table_create(&ctx.seen, default_pool, count, str_hash, strcmp);
	/* unique: permanent UIDLs first, they keep their value if at all
	   possible; rename: in sequence order only */
	for (int pass = unique ? 0 : 1; pass < 2; pass++) {
		for (unsigned int i = 0; i < count; i++) {
			if (unique && items[i].permanent != (pass == 0))
				continue;
			T_BEGIN {
				uidl_resolve_one(&ctx, &items[i], pool);
			} T_END;
		}
	}
	hash_table_destroy(&ctx.seen);
}
