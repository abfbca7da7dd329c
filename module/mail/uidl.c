/* SPDX-License-Identifier: LGPL-2.1-only */
/* UIDL mapping on the mail storage. Which source gives a message its
   UIDL (a permanent UIDL the storage holds, the UIDL map, then
   altpop_uidl_format) and how a maildrop's UIDLs are made unique (a
   duplicate gets "-<uid>" appended, which depends only on the message
   itself, so views (SDPS) and later sessions agree) are the pure rules of
   module/lib/uidl-resolve.c; this file reads the messages, feeds those
   rules and keeps the UIDL map.

   When nothing can collide (no UIDL stored for any message, an empty UIDL
   map, nothing to save, a format one-to-one in the UID) no UIDL is kept:
   each is formatted from the message's UID as it is sent, as stock pop3
   does, so a large maildrop's UIDL costs no memory per message. */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "altpop-limits.h"
#include "uidl-format.h"
#include "uidl-resolve.h"
#include "uidl-map.h"
#include "altpop-client.h"

ARRAY_DEFINE_TYPE(uidl_resolve_item, struct uidl_resolve_item);

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

/* One message as a UIDL source (see uidl-resolve.h). */
struct altpop_uidl_source {
	struct altpop_client *client;
	struct altpop_folder *folder;
	struct mail *mail;
	struct uidl_map *map;
	enum uidl_var_mask vars_needed;
};

static int altpop_uidl_source_stored(void *context, const char **uidl_r)
{
	struct altpop_uidl_source *src = context;

	/* a storage without permanent UIDLs has none to give */
	if (mail_get_special(src->mail, MAIL_FETCH_UIDL_BACKEND, uidl_r) < 0)
		*uidl_r = "";
	return 0;
}

static int altpop_uidl_source_header(void *context, const char **uidl_r)
{
	struct altpop_uidl_source *src = context;
	int ret;

	ret = mail_get_first_header(src->mail, "X-UIDL", uidl_r);
	if (ret < 0 && !src->mail->expunged) {
		e_error(src->client->event, "UIDL: X-UIDL header lookup "
			"failed: %s",
			mailbox_get_last_internal_error(src->mail->box, NULL));
		return -1;
	}
	if (ret <= 0)
		*uidl_r = "";
	return 0;
}

static void altpop_uidl_source_invalid(void *context, const char *what,
				       const char *uidl ATTR_UNUSED)
{
	struct altpop_uidl_source *src = context;

	e_warning(src->client->event, "UIDL: %s of UID %u is not a valid "
		  "POP3 UIDL; using the UIDL map or altpop_uidl_format "
		  "instead", what, src->mail->uid);
}

static int altpop_uidl_source_guid(void *context, const char **guid_r)
{
	struct altpop_uidl_source *src = context;

	return altpop_uidl_special(src->client, src->mail, MAIL_FETCH_GUID,
				   "Message GUID", guid_r);
}

static const char *altpop_uidl_source_map_lookup(void *context,
						 const char *guid)
{
	struct altpop_uidl_source *src = context;

	return uidl_map_lookup_message(src->map, guid,
				       src->folder->uid_validity,
				       src->mail->uid);
}

static bool altpop_uidl_source_map_guid_has_entry(void *context,
						  const char *guid)
{
	struct altpop_uidl_source *src = context;

	return uidl_map_guid_has_entry(src->map, guid);
}

static int altpop_uidl_source_expand(void *context, const char *guid,
				     const char **uidl_r)
{
	struct altpop_uidl_source *src = context;
	struct altpop_client *client = src->client;
	struct uidl_vars vars;
	const char *error;
	string_t *str;

	i_zero(&vars);
	vars.uid = src->mail->uid;
	vars.uidvalidity = src->folder->uid_validity;
	vars.guid = guid;
	if ((src->vars_needed & UIDL_VAR_MD5) != 0) {
		if (altpop_uidl_special(client, src->mail,
					MAIL_FETCH_HEADER_MD5, "Header MD5",
					&vars.md5) < 0)
			return -1;
	}
	if ((src->vars_needed & UIDL_VAR_FILENAME) != 0) {
		if (altpop_uidl_special(client, src->mail,
					MAIL_FETCH_STORAGE_ID, "File name",
					&vars.filename) < 0)
			return -1;
	}
	str = t_str_new(128);
	if (uidl_format_expand(str, client->set->parsed_uidl_format,
			       &vars, &error) < 0) {
		e_error(client->event, "UIDL: altpop_uidl_format=%s gives no "
			"valid UIDL for UID %u: %s",
			client->set->altpop_uidl_format, src->mail->uid, error);
		return -1;
	}
	*uidl_r = str_c(str);
	return 0;
}

static const struct uidl_resolve_sources altpop_uidl_sources = {
	.stored = altpop_uidl_source_stored,
	.header = altpop_uidl_source_header,
	.invalid = altpop_uidl_source_invalid,
	.guid = altpop_uidl_source_guid,
	.map_lookup = altpop_uidl_source_map_lookup,
	.map_guid_has_entry = altpop_uidl_source_map_guid_has_entry,
	.expand = altpop_uidl_source_expand,
};

/* UIDLs must be saved as they are shown: with altpop_save_uidl, and
   always when the maildrop is more than INBOX (a message moved between
   its folders keeps its UIDL through the map, by its GUID). */
static bool altpop_uidls_save_all(struct altpop_client *client)
{
	return client->set->altpop_save_uidl ||
		array_count(&client->folders) > 1;
}

static struct altpop_folder *
altpop_uidl_item_folder(struct altpop_client *client,
			const struct uidl_resolve_item *item)
{
	return array_idx_modifiable(&client->folders, item->folder);
}

/* The GUID of an item, looked up now if it wasn't needed before. */
static int altpop_uidl_item_guid(struct altpop_client *client,
				 struct uidl_resolve_item *item)
{
	struct mail *mail;
	const char *guid;
	int ret;

	if (item->guid != NULL)
		return 0;
	mail = mail_alloc(altpop_uidl_item_folder(client, item)->trans, 0,
			  NULL);
	mail_set_seq(mail, item->seq);
	T_BEGIN {
		ret = altpop_uidl_special(client, mail, MAIL_FETCH_GUID,
					  "Message GUID", &guid);
		if (ret == 0)
			item->guid = p_strdup(client->uidl_pool, guid);
	} T_END;
	mail_free(&mail);
	return ret;
}

/* Read the items of one folder's messages 1..last_seq (by sequence), and
   of the later ones only those with a permanent UIDL (see
   altpop_uidls_compute()). */
static int altpop_uidl_folder_read(struct altpop_client *client,
				   struct altpop_folder *folder,
				   struct uidl_map *map, uint32_t last_seq,
				   ARRAY_TYPE(uidl_resolve_item) *items)
{
	struct mail_search_args *search_args;
	struct mail_search_context *ctx;
	struct altpop_uidl_source src = {
		.client = client, .folder = folder, .map = map,
		.vars_needed = uidl_format_get_vars(
			client->set->parsed_uidl_format),
	};
	const struct uidl_resolve_policy policy = {
		.map_nonempty = uidl_map_count(map) > 0,
		.save_all = altpop_uidls_save_all(client),
		.format_needs_guid = (src.vars_needed & UIDL_VAR_GUID) != 0,
		.reuse_xuidl = client->set->altpop_reuse_xuidl,
	};
	static const char *const xuidl_header[] = { "X-UIDL", NULL };
	struct mailbox_header_lookup_ctx *headers = NULL;
	enum mail_fetch_field wanted = 0;
	struct mail *mail;
	int ret = 0;

	if (folder->count == 0)
		return 0;
	if ((src.vars_needed & UIDL_VAR_MD5) != 0)
		wanted |= MAIL_FETCH_HEADER_MD5;
	if (policy.reuse_xuidl)
		headers = mailbox_header_lookup_init(folder->box,
						     xuidl_header);
	search_args = altpop_mailbox_search_build(client, folder,
						  folder->highest_seq);
	ctx = mailbox_search_init(folder->trans, search_args, NULL, wanted,
				  headers);
	mail_search_args_unref(&search_args);
	if (headers != NULL)
		mailbox_header_lookup_unref(&headers);
	while (ret == 0 && mailbox_search_next(ctx, &mail)) {
		struct uidl_resolve_item item;
		int ret2;

		i_zero(&item);
		item.seq = mail->seq;
		item.uid = mail->uid;
		item.folder = array_ptr_to_idx(&client->folders, folder);
		src.mail = mail;
		/* a frame per message: only the item's strings (in
		   client->uidl_pool) outlive it */
		T_BEGIN {
			ret2 = uidl_resolve_item_read(&altpop_uidl_sources,
				&src, &policy, mail->seq > last_seq,
				client->uidl_pool, &item);
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

/* The items of every folder, in POP3 order: INBOX's messages up to
   last_seq (see altpop_uidl_folder_read()), the other folders' all. */
static int altpop_uidl_items_read(struct altpop_client *client,
				  struct uidl_map *map, uint32_t last_seq,
				  ARRAY_TYPE(uidl_resolve_item) *items)
{
	struct altpop_folder *folder;

	array_foreach_modifiable(&client->folders, folder) {
		if (altpop_uidl_folder_read(client, folder, map,
					    folder == altpop_inbox(client) ?
					    last_seq : (uint32_t)-1,
					    items) < 0)
			return -1;
	}
	return 0;
}

/* Every generated UIDL is the message's own (see uidl-resolve.h). */
static bool altpop_uidls_generated_injective(struct altpop_client *client)
{
	return !client->set->altpop_reuse_xuidl &&
		array_count(&client->folders) == 1 &&
		uidl_format_is_injective(client->set->parsed_uidl_format);
}

static bool altpop_uidl_reserved(const char *uidl, void *context)
{
	struct uidl_map *map = context;

	return uidl_map_uidl_used(map, uidl);
}

/* Make the UIDLs unique and remember in the map those to be saved. */
static int altpop_uidl_items_resolve(struct altpop_client *client,
				     struct uidl_map *map,
				     ARRAY_TYPE(uidl_resolve_item) *items)
{
	struct uidl_resolve_rules rules = {
		.duplicates = client->set->parsed_uidl_duplicates,
		.save_all = altpop_uidls_save_all(client),
		.reserved = altpop_uidl_reserved,
		.context = map,
	};
	struct uidl_resolve_item *item;
	unsigned int count;

	item = array_get_modifiable(items, &count);
	rules.trivial = uidl_resolve_is_trivial(item, count,
		uidl_map_count(map) > 0, altpop_uidls_generated_injective(client));
	uidl_resolve(item, count, &rules, client->uidl_pool);
	array_foreach_modifiable(items, item) {
		if (!item->save)
			continue;
		/* without its GUID it can't be saved, and an unsaved
		   (renamed) UIDL may change later: show none (the lookup
		   logged why) */
		if (altpop_uidl_item_guid(client, item) < 0)
			return -1;
		(void)uidl_map_add_message(map, item->guid,
			altpop_uidl_item_folder(client, item)->uid_validity,
			item->uid, item->uidl);
	}
	return 0;
}

/* a message's place in the items: its folder, then its sequence */
struct altpop_uidl_key {
	uint16_t folder;
	uint32_t seq;
};

static int altpop_uidl_item_cmp(const struct altpop_uidl_key *key,
				const struct uidl_resolve_item *item)
{
	if (key->folder != item->folder)
		return key->folder < item->folder ? -1 : 1;
	return key->seq < item->seq ? -1 : (key->seq > item->seq ? 1 : 0);
}

static const struct uidl_resolve_item *
altpop_uidl_item_find(struct altpop_client *client,
		      ARRAY_TYPE(uidl_resolve_item) *items,
		      unsigned int msgnum)
{
	struct altpop_uidl_key key = {
		.folder = array_ptr_to_idx(&client->folders,
					   altpop_msgnum_folder(client, msgnum)),
		.seq = altpop_msgnum_to_seq(client, msgnum),
	};

	return array_bsearch(items, &key, altpop_uidl_item_cmp);
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
				ARRAY_TYPE(uidl_resolve_item) *items)
{
	struct uidl_map *map = NULL;
	const char *error;
	int ret = 0;

	for (unsigned int attempt = 1;; attempt++) {
		unsigned int dropped = 0;
		int commit_ret = 0;

		if (uidl_map_open(client->mailbox, &map, &error) < 0) {
			e_error(client->event, "UIDL: %s", error);
			return -1;
		}
		client->uidl_pool = pool_alloconly_create("altpop uidls",
			I_MAX(1024, I_MIN(last_seq, client->messages_count) * 32));
		if (altpop_uidl_items_read(client, map, last_seq, items) < 0 ||
		    altpop_uidl_items_resolve(client, map, items) < 0)
			ret = -1;
		if (ret == 0)
			commit_ret = uidl_map_commit(map, &dropped, &error);
		if (commit_ret == UIDL_MAP_COMMIT_UNWRITTEN) {
			/* The disk is full or failing: show the UIDLs
			   unsaved rather than leave the user without mail
			   (see "Full disk" in doc/reliability.md). They are
			   what the rules give with the map as it is, and the
			   map can't change while nothing can write it, so
			   the next session that can write it works out and
			   saves the same values. */
			e_error(client->event, "UIDL: altpop_save_uidl: %s; "
				"listing the UIDLs unsaved (a later session "
				"saves them)", error);
		} else if (commit_ret < 0) {
			/* UIDLs that were not saved for another reason
			   (the map's lock, a racing writer) must not be
			   shown: they could change later */
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
	struct altpop_folder *inbox = altpop_inbox(client);
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
	    !altpop_uidls_generated_injective(client))
		return 0;
	/* the longest UID gives the longest UIDL: valid for it, valid for
	   every message */
	i_zero(&vars);
	vars.uid = (uint32_t)-1;
	vars.uidvalidity = inbox->uid_validity;
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
	/* (INBOX alone: more folders are never streamed) */
	search_args = altpop_mailbox_search_build(client, inbox,
						  inbox->highest_seq);
	ctx = mailbox_search_init(inbox->trans, search_args, NULL, 0, NULL);
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
	vars.uidvalidity = altpop_inbox(client)->uid_validity;
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
	ARRAY_TYPE(uidl_resolve_item) items;
	const struct uidl_resolve_item *item;
	int ret = 0;

	if (client->uidls != NULL || client->messages_count == 0) {
		*uidls_r = client->uidls;
		return 0;
	}
	/* an earlier UIDL n's partial work is not kept */
	pool_unref(&client->uidl_pool);
	i_array_init(&items, client->messages_count);
	if (altpop_uidls_compute(client, (uint32_t)-1, &items) < 0) {
		array_free(&items);
		return -1;
	}

	/* items are in folder and sequence order (the searches have no
	   sort): find each message's item by them, without a second
	   table */
	client->uidls = p_new(client->uidl_pool, const char *,
			      client->messages_count + 1);
	for (unsigned int i = 0; i < client->messages_count; i++) {
		item = altpop_uidl_item_find(client, &items, i);
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
	ARRAY_TYPE(uidl_resolve_item) items;
	const struct uidl_resolve_item *item;
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
	if (client->uidls == NULL && (client->uidl_single_done ||
				      array_count(&client->folders) > 1)) {
		/* a client asking message by message: work them all out
		   once instead of a growing part of the maildrop each time
		   (and a maildrop of more than INBOX: always all) */
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
	item = altpop_uidl_item_find(client, &items, msgnum);
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
