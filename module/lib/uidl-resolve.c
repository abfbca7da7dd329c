/* SPDX-License-Identifier: LGPL-2.1-only */
/* UIDL sources and uniqueness over a maildrop, apart from the storage:
   see include/uidl-resolve.h. */

#include "lib.h"
#include "hash.h"
#include "str.h"
#include "uidl-format.h"
#include "uidl-resolve.h"

HASH_TABLE_DEFINE_TYPE(uidl_resolve_set, char *, char *);

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
		sources->stored_invalid(context, stored);
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
	if (sources->expand(context, item->guid, &value) < 0)
		return -1;
	item->uidl = p_strdup(pool, value);
	return 1;
}

bool uidl_resolve_is_trivial(const struct uidl_resolve_item *items,
			     unsigned int count, bool map_nonempty,
			     bool format_injective)
{
	if (map_nonempty || !format_injective)
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
	uidl_taken_func_t *reserved;
	void *reserved_context;
	bool permanent;
};

static bool uidl_resolve_taken(const char *uidl, void *context)
{
	struct uidl_resolve_taken_context *ctx = context;

	if (hash_table_lookup(ctx->seen, uidl) != NULL)
		return TRUE;
	/* a new UIDL must not look like one the map keeps for another
	   message; a permanent one is that message's own */
	return !ctx->permanent && ctx->reserved != NULL &&
		ctx->reserved(uidl, ctx->reserved_context);
}

static void uidl_resolve_one(struct uidl_resolve_taken_context *ctx,
			     struct uidl_resolve_item *item, bool save_all,
			     pool_t pool)
{
	string_t *str = t_str_new(128);
	bool renamed;

	ctx->permanent = item->permanent;
	str_append(str, item->uidl);
	renamed = uidl_make_unique(str, item->uid, uidl_resolve_taken, ctx);
	if (renamed)
		item->uidl = p_strdup(pool, str_c(str));
	hash_table_insert(ctx->seen, (char *)item->uidl, (char *)item->uidl);
	/* a renamed duplicate is always remembered: it must not turn into
	   the plain UIDL when the message it collided with is expunged */
	item->save = !item->permanent &&
		(save_all || renamed || item->guid_shared);
}

void uidl_resolve(struct uidl_resolve_item *items, unsigned int count,
		  bool save_all, bool trivial, uidl_taken_func_t *reserved,
		  void *context, pool_t pool)
{
	struct uidl_resolve_taken_context ctx = {
		.reserved = reserved, .reserved_context = context,
	};

	if (trivial) {
		/* nothing can collide (the usual case): no table, which
		   keeps large maildrops small */
		for (unsigned int i = 0; i < count; i++)
			items[i].save = save_all && !items[i].permanent;
		return;
	}
	hash_table_create(&ctx.seen, default_pool, count, str_hash, strcmp);
	/* permanent UIDLs first: they keep their value if at all possible */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < count; i++) {
			if (items[i].permanent != (pass == 0))
				continue;
			T_BEGIN {
				uidl_resolve_one(&ctx, &items[i], save_all,
						 pool);
			} T_END;
		}
	}
	hash_table_destroy(&ctx.seen);
}
