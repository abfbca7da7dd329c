/* SPDX-License-Identifier: LGPL-2.1-only */
/* UIDL mapping. For each message, the first of:
     1. a permanent UIDL the storage holds (MAIL_FETCH_UIDL_BACKEND:
        Dovecot's pop3-migration plugin or pop3_save_uidl),
     2. the UIDL map (saved by altpop_save_uidl, or imported from a legacy
        server), keyed by message GUID (and UID where GUIDs repeat, see
        uidl-map.c),
     3. altpop_uidl_format.
   Every UIDL shown is valid (1..70 of 0x21..0x7E) and unique within the
   maildrop: a duplicate gets "-<uid>" appended, which depends only on the
   message itself, so views (SDPS) and later sessions agree.

   When nothing can collide (no UIDL stored for any message, an empty UIDL
   map, nothing to save, a format one-to-one in the UID) no UIDL is kept:
   each is formatted from the message's UID as it is sent, as stock pop3
   does, so a large maildrop's UIDL costs no memory per message. */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "altpop-limits.h"
#include "uidl-format.h"
#include "uidl-unique.h"
#include "uidl-map.h"
#include "altpop-client.h"

HASH_TABLE_DEFINE_TYPE(altpop_uidl_set, char *, char *);
struct altpop_uidl_item;
ARRAY_DEFINE_TYPE(altpop_uidl_item, struct altpop_uidl_item);

/* One message while UIDLs are being worked out (32 bytes: a maildrop of
   100,000 messages keeps 100,000 of them at once). The format is expanded
   while the message is at hand, so its variables are not kept. */
struct altpop_uidl_item {
	uint32_t seq, uid;
	const char *uidl;	/* permanent UIDL, or the expanded format;
				   the final value after resolving */
	const char *guid;	/* for the map, when it was looked up */
	bool permanent;
	/* another message with the same GUID has the map's plain-GUID entry:
	   this one's UIDL is remembered under its own key, or it would take
	   that entry over once the other message is expunged */
	bool guid_shared;
};

static int altpop_uidl_special(struct altpop_client *client, struct mail *mail,
			       enum mail_fetch_field field, const char *what,
			       const char **value_r)
{
	if (mail_get_special(mail, field, value_r) < 0) {
		e_error(client->event, "UIDL: %s lookup failed: %s", what,
			mailbox_get_last_internal_error(mail->box, NULL));
		return -1;
	}
	if ((*value_r)[0] == '\0') {
		e_error(client->event, "UIDL: %s not available: the mail "
			"storage does not support it in altpop_uidl_format",
			what);
		return -1;
	}
	return 0;
}

/* Returns 1 when item was filled, 0 when permanent_only is set and the
   message has no permanent UIDL (item is left as it is), -1 on error.
   Called in a data stack frame of its own: what is kept goes to
   client->uidl_pool. */
static int altpop_uidl_item_read(struct altpop_client *client,
				 struct mail *mail, struct uidl_map *map,
				 enum uidl_var_mask vars_needed,
				 bool permanent_only,
				 struct altpop_uidl_item *item)
{
	const char *backend, *guid = NULL, *value, *error;
	struct uidl_vars vars;
	pool_t pool = client->uidl_pool;
	string_t *str;

	item->seq = mail->seq;
	item->uid = mail->uid;
	if (mail_get_special(mail, MAIL_FETCH_UIDL_BACKEND, &backend) == 0 &&
	    backend[0] != '\0') {
		if (uidl_is_valid(backend, strlen(backend))) {
			item->uidl = p_strdup(pool, backend);
			item->permanent = TRUE;
			return 1;
		}
		e_warning(client->event, "UIDL: stored UIDL of UID %u is not a "
			  "valid POP3 UIDL; using the UIDL map or "
			  "altpop_uidl_format instead", mail->uid);
	}
	if (uidl_map_count(map) > 0 ||
	    (!permanent_only && (client->set->altpop_save_uidl ||
				 (vars_needed & UIDL_VAR_GUID) != 0))) {
		if (altpop_uidl_special(client, mail, MAIL_FETCH_GUID,
					"Message GUID", &guid) < 0)
			return -1;
		if ((value = uidl_map_lookup_message(map, guid,
				client->uid_validity, mail->uid)) != NULL) {
			item->guid = p_strdup(pool, guid);
			item->uidl = p_strdup(pool, value);
			item->permanent = TRUE;
			return 1;
		}
		if (permanent_only)
			return 0;
		item->guid = p_strdup(pool, guid);
		item->guid_shared = uidl_map_guid_has_entry(map, guid);
	}
	if (permanent_only)
		return 0;

	i_zero(&vars);
	vars.uid = mail->uid;
	vars.uidvalidity = client->uid_validity;
	vars.guid = item->guid;
	if ((vars_needed & UIDL_VAR_MD5) != 0) {
		if (altpop_uidl_special(client, mail, MAIL_FETCH_HEADER_MD5,
					"Header MD5", &vars.md5) < 0)
			return -1;
	}
	if ((vars_needed & UIDL_VAR_FILENAME) != 0) {
		if (altpop_uidl_special(client, mail, MAIL_FETCH_STORAGE_ID,
					"File name", &vars.filename) < 0)
			return -1;
	}
	str = t_str_new(128);
	if (uidl_format_expand(str, client->set->parsed_uidl_format,
			       &vars, &error) < 0) {
		e_error(client->event, "UIDL: altpop_uidl_format=%s gives no "
			"valid UIDL for UID %u: %s",
			client->set->altpop_uidl_format, mail->uid, error);
		return -1;
	}
	item->uidl = p_strdup(pool, str_c(str));
	return 1;
}

/* Who holds a UIDL while UIDLs are resolved. */
struct altpop_uidl_taken_context {
	HASH_TABLE_TYPE(altpop_uidl_set) seen;
	struct uidl_map *map;
	bool permanent;
};

static bool altpop_uidl_taken(const char *uidl, void *context)
{
	struct altpop_uidl_taken_context *ctx = context;

	if (hash_table_lookup(ctx->seen, uidl) != NULL)
		return TRUE;
	/* a new UIDL must not look like one the map keeps for another
	   message */
	return !ctx->permanent && uidl_map_uidl_used(ctx->map, uidl);
}

/* The GUID of an item, looked up now if it wasn't needed before. */
static int altpop_uidl_item_guid(struct altpop_client *client,
				 struct altpop_uidl_item *item)
{
	struct mail *mail;
	const char *guid;
	int ret;

	if (item->guid != NULL)
		return 0;
	mail = mail_alloc(client->trans, 0, NULL);
	mail_set_seq(mail, item->seq);
	ret = altpop_uidl_special(client, mail, MAIL_FETCH_GUID,
				  "Message GUID", &guid);
	if (ret == 0)
		item->guid = p_strdup(client->uidl_pool, guid);
	mail_free(&mail);
	return ret;
}

/* Read the items of messages 1..last_seq (by sequence), and of the later
   ones up to highest_seq only those with a permanent UIDL (see
   altpop_uidls_compute()). */
static int altpop_uidl_items_read(struct altpop_client *client,
				  struct uidl_map *map, uint32_t last_seq,
				  ARRAY_TYPE(altpop_uidl_item) *items)
{
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	enum uidl_var_mask vars_needed;
	enum mail_fetch_field wanted = 0;
	struct mail *mail;
	int ret = 0;

	vars_needed = uidl_format_get_vars(client->set->parsed_uidl_format);
	if ((vars_needed & UIDL_VAR_MD5) != 0)
		wanted |= MAIL_FETCH_HEADER_MD5;
	search_args = mail_search_build_init();
	mail_search_build_add_seqset(search_args, 1, client->highest_seq);
	ctx = mailbox_search_init(client->trans, search_args, NULL, wanted,
				  NULL);
	mail_search_args_unref(&search_args);
	while (ret == 0 && mailbox_search_next(ctx, &mail)) {
		struct altpop_uidl_item item;
		int ret2;

		i_zero(&item);
		/* a frame per message: only the item's strings (in
		   client->uidl_pool) outlive it */
		T_BEGIN {
			ret2 = altpop_uidl_item_read(client, mail, map,
						     vars_needed,
						     mail->seq > last_seq,
						     &item);
		} T_END;
		if (ret2 < 0)
			ret = -1;
		else if (ret2 > 0)
			array_push_back(items, &item);
	}
	if (mailbox_search_deinit(&ctx) < 0)
		ret = -1;
	return ret;
}

/* Give item its final, unique UIDL and remember it in seen (and in the
   map when it is to be saved). Called in a data stack frame of its own. */
static int altpop_uidl_item_resolve(struct altpop_client *client,
				    HASH_TABLE_TYPE(altpop_uidl_set) seen,
				    struct uidl_map *map,
				    struct altpop_uidl_item *item)
{
	struct altpop_uidl_taken_context taken_ctx = {
		.seen = seen, .map = map, .permanent = item->permanent,
	};
	string_t *str = t_str_new(128);
	bool renamed;

	str_append(str, item->uidl);
	renamed = uidl_make_unique(str, item->uid, altpop_uidl_taken,
				   &taken_ctx);
	if (renamed)
		item->uidl = p_strdup(client->uidl_pool, str_c(str));
	hash_table_insert(seen, (char *)item->uidl, (char *)item->uidl);
	/* A renamed duplicate is always remembered: it must not turn into
	   the plain UIDL when the message it collided with is expunged. */
	if ((client->set->altpop_save_uidl || renamed || item->guid_shared) &&
	    !item->permanent) {
		/* without its GUID it can't be saved, and an unsaved
		   (renamed) UIDL may change later: show none (the lookup
		   logged why) */
		if (altpop_uidl_item_guid(client, item) < 0)
			return -1;
		(void)uidl_map_add_message(map, item->guid,
					   client->uid_validity, item->uid,
					   item->uidl);
	}
	return 0;
}

static int altpop_uidl_items_resolve(struct altpop_client *client,
				     struct uidl_map *map,
				     ARRAY_TYPE(altpop_uidl_item) *items)
{
	HASH_TABLE_TYPE(altpop_uidl_set) seen;
	struct altpop_uidl_item *item;
	bool any_permanent = FALSE;
	int ret = 0;

	array_foreach_modifiable(items, item) {
		if (item->permanent) {
			any_permanent = TRUE;
			break;
		}
	}
	if (!any_permanent && uidl_map_count(map) == 0 &&
	    uidl_format_is_injective(client->set->parsed_uidl_format)) {
		/* Nothing can collide (the usual case): no uniqueness
		   table needed, which keeps large maildrops small. */
		if (client->set->altpop_save_uidl) {
			array_foreach_modifiable(items, item) {
				/* a UIDL that can't be saved isn't shown */
				T_BEGIN {
					ret = altpop_uidl_item_guid(client,
								    item);
				} T_END;
				if (ret < 0)
					return -1;
				(void)uidl_map_add_message(map, item->guid,
					client->uid_validity, item->uid,
					item->uidl);
			}
		}
		return 0;
	}

	hash_table_create(&seen, default_pool, array_count(items),
			  str_hash, strcmp);
	/* permanent UIDLs first: they keep their value if at all possible */
	for (int pass = 0; pass < 2 && ret == 0; pass++) {
		array_foreach_modifiable(items, item) {
			if (item->permanent != (pass == 0))
				continue;
			T_BEGIN {
				ret = altpop_uidl_item_resolve(client, seen,
							       map, item);
			} T_END;
			if (ret < 0)
				break;
		}
	}
	hash_table_destroy(&seen);
	return ret;
}

static int altpop_uidl_item_cmp_seq(const uint32_t *seq,
				    const struct altpop_uidl_item *item)
{
	return *seq < item->seq ? -1 : (*seq > item->seq ? 1 : 0);
}

/* Work out the UIDLs of messages 1..last_seq (by sequence) into items,
   in sequence order, in client->uidl_pool.

   What message n's UIDL depends on is what the full listing would give it:
   - its own permanent UIDL, map entry or expanded format;
   - every permanent UIDL of the maildrop (they claim their values first,
     so a generated UIDL equal to one of them gets its "-<uid>" suffix):
     those are looked up for every message, which needs only the storage's
     own UIDL and, when the map has entries, the GUID;
   - the generated UIDLs of the messages before it (the first one keeps a
     value, later equal ones are renamed in sequence order), and the map's
     UIDLs;
   and nothing of the generated UIDLs after it. So UIDL n expands the
   format only for messages 1..n. With altpop_save_uidl the UIDLs worked
   out are saved, as when listed: all of them belong to messages up to n
   and keep their values in every later listing. */
static int altpop_uidls_compute(struct altpop_client *client,
				uint32_t last_seq,
				ARRAY_TYPE(altpop_uidl_item) *items)
{
	struct uidl_map *map = NULL;
	const char *error;
	int ret = 0;

	for (unsigned int attempt = 1;; attempt++) {
		unsigned int dropped;

		if (uidl_map_open(client->mailbox, &map, &error) < 0) {
			e_error(client->event, "UIDL: %s", error);
			return -1;
		}
		client->uidl_pool = pool_alloconly_create("altpop uidls",
			I_MAX(1024, I_MIN(last_seq, client->messages_count) * 32));
		if (altpop_uidl_items_read(client, map, last_seq, items) < 0 ||
		    altpop_uidl_items_resolve(client, map, items) < 0)
			ret = -1;
		if (ret == 0 && uidl_map_commit(map, &dropped, &error) < 0) {
			/* UIDLs that were not saved must not be shown: they
			   could change later */
			e_error(client->event, "UIDL: altpop_save_uidl: %s",
				error);
			ret = -1;
		} else if (ret == 0 && dropped > 0) {
			/* another writer saved UIDLs for the same messages
			   (or the same UIDLs for others) first: theirs are
			   kept, so work ours out again from the map as it is
			   now */
			if (attempt < ALTPOP_UIDL_MAP_MAX_ATTEMPTS) {
				uidl_map_free(&map);
				array_clear(items);
				pool_unref(&client->uidl_pool);
				continue;
			}
			e_error(client->event, "UIDL: altpop_save_uidl: the UIDL "
				"map kept changing under us (%u attempts); "
				"not showing UIDLs that were not saved",
				attempt);
			ret = -1;
		}
		break;
	}
	uidl_map_free(&map);
	if (ret < 0)
		pool_unref(&client->uidl_pool);
	return ret;
}

static int
altpop_uidls_get(struct altpop_client *client, const char *const **uidls_r);

/* Can UIDLs be formatted as they are sent (see the top of this file)?
   Sets client->uidls_streamed; -1 on error (logged). */
static int altpop_uidls_stream_check(struct altpop_client *client)
{
	const char *format = client->set->parsed_uidl_format;
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	struct uidl_map *map;
	struct uidl_vars vars;
	struct mail *mail;
	const char *backend, *error;
	unsigned int map_count;
	bool valid, stored = FALSE;

	client->uidls_stream_checked = TRUE;
	client->uidls_streamed = FALSE;
	if (client->set->altpop_save_uidl || client->messages_count == 0 ||
	    !uidl_format_is_injective(format))
		return 0;
	/* the longest UID gives the longest UIDL: valid for it, valid for
	   every message */
	i_zero(&vars);
	vars.uid = (uint32_t)-1;
	vars.uidvalidity = client->uid_validity;
	T_BEGIN {
		valid = uidl_format_expand(t_str_new(128), format, &vars,
					   &error) == 0;
	} T_END;
	if (!valid)
		return 0;
	if (uidl_map_open(client->mailbox, &map, &error) < 0) {
		e_error(client->event, "UIDL: %s", error);
		return -1;
	}
	map_count = uidl_map_count(map);
	uidl_map_free(&map);
	if (map_count > 0)
		return 0;

	/* a UIDL the storage holds (valid or not: the full path warns about
	   the invalid ones) could equal a generated one */
	search_args = mail_search_build_init();
	mail_search_build_add_seqset(search_args, 1, client->highest_seq);
	ctx = mailbox_search_init(client->trans, search_args, NULL, 0, NULL);
	mail_search_args_unref(&search_args);
	while (!stored && mailbox_search_next(ctx, &mail)) {
		stored = mail_get_special(mail, MAIL_FETCH_UIDL_BACKEND,
					  &backend) == 0 && backend[0] != '\0';
	}
	if (mailbox_search_deinit(&ctx) < 0) {
		e_error(client->event, "UIDL: reading the maildrop failed: %s",
			mailbox_get_last_internal_error(client->mailbox, NULL));
		return -1;
	}
	client->uidls_streamed = !stored;
	return 0;
}

void altpop_uidl_append(struct altpop_client *client, unsigned int msgnum,
			string_t *dest)
{
	struct uidl_vars vars;
	const char *error;

	if (!client->uidls_streamed) {
		str_append(dest, client->uidls[msgnum]);
		return;
	}
	i_zero(&vars);
	vars.uid = altpop_msgnum_to_uid(client, msgnum);
	vars.uidvalidity = client->uid_validity;
	if (uidl_format_expand(dest, client->set->parsed_uidl_format, &vars,
			       &error) < 0) {
		/* altpop_uidls_stream_check() expanded the longest one */
		i_panic("UIDL: format %s failed after its check: %s",
			client->set->parsed_uidl_format, error);
	}
}

int altpop_uidls_prepare(struct altpop_client *client)
{
	const char *const *uidls;

	if (client->uidls != NULL || client->uidls_streamed)
		return 0;
	if (!client->uidls_stream_checked &&
	    altpop_uidls_stream_check(client) < 0)
		return -1;
	if (client->uidls_streamed)
		return 0;
	return altpop_uidls_get(client, &uidls);
}

static int
altpop_uidls_get(struct altpop_client *client, const char *const **uidls_r)
{
	ARRAY_TYPE(altpop_uidl_item) items;
	const struct altpop_uidl_item *item;
	int ret = 0;

	if (client->uidls != NULL || client->messages_count == 0) {
		*uidls_r = client->uidls;
		return 0;
	}
	/* an earlier UIDL n's partial work is not kept */
	pool_unref(&client->uidl_pool);
	i_array_init(&items, client->messages_count);
	if (altpop_uidls_compute(client, client->highest_seq, &items) < 0) {
		array_free(&items);
		return -1;
	}

	/* items are in sequence order (the search has no sort): find each
	   message's item by its sequence, without a second table */
	client->uidls = p_new(client->uidl_pool, const char *,
			      client->messages_count + 1);
	for (unsigned int i = 0; i < client->messages_count; i++) {
		uint32_t seq = altpop_msgnum_to_seq(client, i);
		item = array_bsearch(&items, &seq, altpop_uidl_item_cmp_seq);
		if (item == NULL) {
			e_error(client->event, "UIDL: message %u vanished "
				"while listing UIDLs", i + 1);
			ret = -1;
			break;
		}
		client->uidls[i] = item->uidl;
	}
	array_free(&items);
	if (ret < 0) {
		client->uidls = NULL;
		pool_unref(&client->uidl_pool);
		return -1;
	}
	*uidls_r = client->uidls;
	return 0;
}

int altpop_uidl_get(struct altpop_client *client, unsigned int msgnum,
		    const char **uidl_r)
{
	ARRAY_TYPE(altpop_uidl_item) items;
	const struct altpop_uidl_item *item;
	const char *const *uidls;
	uint32_t seq = altpop_msgnum_to_seq(client, msgnum);
	bool found;

	if (!client->uidls_stream_checked &&
	    altpop_uidls_stream_check(client) < 0)
		return -1;
	if (client->uidls_streamed) {
		string_t *str = t_str_new(64);

		altpop_uidl_append(client, msgnum, str);
		*uidl_r = str_c(str);
		return 0;
	}
	if (client->uidls == NULL && client->uidl_single_done) {
		/* a client asking message by message: work them all out
		   once instead of a growing part of the maildrop each time */
		if (altpop_uidls_get(client, &uidls) < 0)
			return -1;
	}
	if (client->uidls != NULL) {
		*uidl_r = client->uidls[msgnum];
		return 0;
	}
	client->uidl_single_done = TRUE;
	pool_unref(&client->uidl_pool);
	i_array_init(&items, 64);
	if (altpop_uidls_compute(client, seq, &items) < 0) {
		array_free(&items);
		return -1;
	}
	item = array_bsearch(&items, &seq, altpop_uidl_item_cmp_seq);
	found = item != NULL;
	if (!found) {
		e_error(client->event, "UIDL: message %u vanished while "
			"looking up its UIDL", msgnum + 1);
	} else {
		*uidl_r = t_strdup(item->uidl);
	}
	array_free(&items);
	pool_unref(&client->uidl_pool);
	return found ? 0 : -1;
}
