/* SPDX-License-Identifier: LGPL-2.1-only */
/* Importing a legacy server's UIDLs into a maildrop's UIDL map:
     altpop -u <user> -I <file>
   The file (uidl-import-file.h) has one line per message of the old server:
     <octets> <header-md5> <uidl>
   where header-md5 is the MD5 (hex) of the message's header as the old
   server's "TOP n 0" sent it: every header line with CRLF, without the
   empty line that ends the header. An optional fourth field is the body
   MD5 (every body line with CRLF, trailing empty lines left out, so that
   an mbox separator or an added final newline does not change it). Lines
   starting with '#' are comments.
   Messages are matched by header MD5. When several legacy entries share
   it, those whose body MD5 (when the file has one) is the message's are
   preferred, then the one closest in size wins (migrations add or drop a
   few octets: mbox separators, a final newline), and among equally close
   ones the first in the old server's order (migrations keep the
   maildrop's order). A message that already has a permanent UIDL is never changed;
   its legacy entry (same UIDL) counts as kept. */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "hex-binary.h"
#include "istream.h"
#include "md5.h"
#include "message-size.h"
#include "str.h"
#include "mail-storage.h"
#include "mail-search-build.h"
#include "mail-namespace.h"
#include "mail-user.h"
#include "uidl-import-file.h"
#include "uidl-map.h"
#include "uidl-import.h"
#include "altpop-events.h"

struct legacy_entry {
	uoff_t size;
	const char *uidl;
	const char *body_md5;		/* NULL if the file has none */
	bool used;
	struct legacy_entry *next;	/* same header MD5, in file order */
	struct legacy_entry *same_uidl;	/* next entry with the same UIDL,
					   in file order */
	struct legacy_entry *last_same_uidl; /* in the first one: the last */
};

/* the entries sharing one header MD5 */
struct legacy_list {
	struct legacy_entry *head, *tail;
};

HASH_TABLE_DEFINE_TYPE(legacy_by_md5, char *, struct legacy_list *);
HASH_TABLE_DEFINE_TYPE(legacy_by_uidl, char *, struct legacy_entry *);

struct uidl_import_stats {
	unsigned int legacy_entries, matched, kept, unmatched_local,
		by_body, by_size, by_order, conflicts;
};

struct uidl_import_read_context {
	pool_t pool;
	HASH_TABLE_TYPE(legacy_by_md5) table;
	HASH_TABLE_TYPE(legacy_by_uidl) by_uidl;
};

static void uidl_import_read_entry(uoff_t size, const char *header_md5,
				   const char *uidl, const char *body_md5,
				   void *context)
{
	struct uidl_import_read_context *ctx = context;
	struct legacy_entry *e, *first;
	struct legacy_list *list;

	e = p_new(ctx->pool, struct legacy_entry, 1);
	e->size = size;
	e->uidl = p_strdup(ctx->pool, uidl);
	e->body_md5 = p_strdup(ctx->pool, body_md5);
	list = hash_table_lookup(ctx->table, header_md5);
	if (list == NULL) {
		list = p_new(ctx->pool, struct legacy_list, 1);
		hash_table_insert(ctx->table, p_strdup(ctx->pool, header_md5),
				  list);
		list->head = e;
	} else {
		list->tail->next = e;
	}
	list->tail = e;
	/* a UIDL the old server gave several messages (popa3d does, for
	   identical headers): its entries are chained in file order */
	first = hash_table_lookup(ctx->by_uidl, e->uidl);
	if (first == NULL) {
		hash_table_insert(ctx->by_uidl, (char *)e->uidl, e);
		e->last_same_uidl = e;
	} else {
		first->last_same_uidl->same_uidl = e;
		first->last_same_uidl = e;
	}
}

static int
uidl_import_read_legacy(int fd, const char *path,
			struct uidl_import_read_context *ctx,
			unsigned int *count_r, const char **error_r)
{
	struct istream *input;
	int ret;

	input = i_stream_create_fd(fd, UIDL_IMPORT_FILE_MAX_LINE);
	ret = uidl_import_file_read(input, path, uidl_import_read_entry, ctx,
				    count_r, error_r);
	i_stream_unref(&input);
	return ret;
}

/* MD5 of the header, CRLF line ends, without the empty line. */
static int uidl_import_header_md5(struct mail *mail, const char **md5_r)
{
	struct istream *input;
	struct md5_context ctx;
	unsigned char digest[MD5_RESULTLEN];
	const char *line;

	if (mail_get_hdr_stream(mail, NULL, &input) < 0)
		return -1;
	md5_init(&ctx);
	while ((line = i_stream_read_next_line(input)) != NULL) {
		if (line[0] == '\0')
			break;
		md5_update(&ctx, line, strlen(line));
		md5_update(&ctx, "\r\n", 2);
	}
	if (input->stream_errno != 0)
		return -1;
	md5_final(&ctx, digest);
	*md5_r = binary_to_hex(digest, sizeof(digest));
	return 0;
}

/* MD5 of the body: every line with CRLF, trailing empty lines left out. */
static int uidl_import_body_md5(struct mail *mail, const char **md5_r)
{
	struct message_size hdr_size;
	struct istream *input;
	struct md5_context ctx;
	unsigned char digest[MD5_RESULTLEN];
	const char *line;
	unsigned int empty_lines = 0;

	if (mail_get_stream(mail, &hdr_size, NULL, &input) < 0)
		return -1;
	i_stream_skip(input, hdr_size.physical_size);
	md5_init(&ctx);
	while ((line = i_stream_read_next_line(input)) != NULL) {
		size_t len = strlen(line);

		if (len > 0 && line[len - 1] == '\r')
			len--;
		if (len == 0) {
			empty_lines++;
			continue;
		}
		for (; empty_lines > 0; empty_lines--)
			md5_update(&ctx, "\r\n", 2);
		md5_update(&ctx, line, len);
		md5_update(&ctx, "\r\n", 2);
	}
	if (input->stream_errno != 0)
		return -1;
	md5_final(&ctx, digest);
	*md5_r = binary_to_hex(digest, sizeof(digest));
	return 0;
}

static uoff_t uidl_import_size_diff(uoff_t a, uoff_t b)
{
	return a > b ? a - b : b - a;
}

/* The legacy entry for a message: the unused entry with its header MD5;
   of several, those with the message's body MD5 (if the file has body
   MD5s and any matches), then the closest in size, then the first in file
   order. -1 if the body couldn't be read. */
static int
uidl_import_match(HASH_TABLE_TYPE(legacy_by_md5) table, struct mail *mail,
		  const char *md5, uoff_t size, struct uidl_import_stats *stats,
		  struct legacy_entry **entry_r)
{
	struct legacy_list *list = hash_table_lookup(table, md5);
	struct legacy_entry *e, *best = NULL;
	const char *body_md5 = NULL;
	unsigned int candidates = 0, with_body = 0, body_matches = 0;
	unsigned int best_count = 0;

	*entry_r = NULL;
	if (list == NULL)
		return 0;
	for (e = list->head; e != NULL; e = e->next) {
		if (e->used)
			continue;
		candidates++;
		if (e->body_md5 != NULL)
			with_body++;
	}
	if (candidates > 1 && with_body > 0) {
		if (uidl_import_body_md5(mail, &body_md5) < 0)
			return -1;
		for (e = list->head; e != NULL; e = e->next) {
			if (!e->used && null_strcmp(e->body_md5, body_md5) == 0)
				body_matches++;
		}
		if (body_matches == 0)
			body_md5 = NULL;
	}
	for (e = list->head; e != NULL; e = e->next) {
		if (e->used ||
		    (body_md5 != NULL && null_strcmp(e->body_md5, body_md5) != 0))
			continue;
		if (best == NULL || uidl_import_size_diff(e->size, size) <
		    uidl_import_size_diff(best->size, size)) {
			best = e;
			best_count = 1;
		} else if (uidl_import_size_diff(e->size, size) ==
			   uidl_import_size_diff(best->size, size)) {
			best_count++;
		}
	}
	if (candidates > 1) {
		if (body_matches == 1)
			stats->by_body++;
		else if (best_count == 1)
			stats->by_size++;
		else
			stats->by_order++;
	}
	*entry_r = best;
	return 0;
}

/* A message kept its permanent UIDL: the legacy entry with that UIDL (if
   any) belongs to it. */
static void uidl_import_mark_kept(HASH_TABLE_TYPE(legacy_by_uidl) by_uidl,
				  const char *uidl)
{
	struct legacy_entry *e = hash_table_lookup(by_uidl, uidl);

	while (e != NULL && e->used)
		e = e->same_uidl;
	if (e != NULL)
		e->used = TRUE;
}

static unsigned int
uidl_import_unused(struct uidl_import_read_context *ctx)
{
	struct hash_iterate_context *iter;
	struct legacy_list *list;
	struct legacy_entry *e;
	char *md5;
	unsigned int count = 0;

	iter = hash_table_iterate_init(ctx->table);
	while (hash_table_iterate(iter, ctx->table, &md5, &list)) {
		for (e = list->head; e != NULL; e = e->next) {
			if (!e->used)
				count++;
		}
	}
	hash_table_iterate_deinit(&iter);
	return count;
}

/* altpop_uidl_import_finished: what the import did, or error */
static void uidl_import_event(struct mail_user *user,
			      const struct uidl_import_stats *stats,
			      unsigned int unused_entries, const char *error)
{
	struct event *event = altpop_event_create(user->event,
		"altpop_uidl_import_finished");

	event_add_int(event, "legacy_entries", stats->legacy_entries);
	event_add_int(event, "matched_count", stats->matched);
	event_add_int(event, "kept_count", stats->kept);
	event_add_int(event, "unmatched_count", stats->unmatched_local);
	event_add_int(event, "by_body_count", stats->by_body);
	event_add_int(event, "by_size_count", stats->by_size);
	event_add_int(event, "by_order_count", stats->by_order);
	event_add_int(event, "conflict_count", stats->conflicts);
	event_add_int(event, "unused_count", unused_entries);
	if (error != NULL)
		event_add_str(event, "error", error);
	e_debug(event, "UIDL import: %u of %u legacy entries imported%s%s",
		stats->matched, stats->legacy_entries,
		error == NULL ? "" : ", failed: ", error == NULL ? "" : error);
	event_unref(&event);
}

static void uidl_import_free(struct uidl_import_read_context *ctx)
{
	hash_table_destroy(&ctx->table);
	hash_table_destroy(&ctx->by_uidl);
	pool_unref(&ctx->pool);
}

int altpop_uidl_import(struct mail_user *user, int fd, const char *path,
		       string_t *report, const char **error_r)
{
	struct uidl_import_read_context read_ctx;
	struct uidl_import_stats stats;
	struct mail_namespace *ns;
	struct mailbox *box;
	struct mailbox_transaction_context *trans;
	struct mail_search_args *args;
	struct mail_search_context *ctx;
	struct uidl_map *map = NULL;
	struct mail *mail;
	struct mailbox_status status;
	uint32_t failed_uid = 0;
	unsigned int dropped = 0, unused_entries = 0;
	int ret = 0;

	i_zero(&stats);
	i_zero(&read_ctx);
	read_ctx.pool = pool_alloconly_create("uidl import", 4096);
	hash_table_create(&read_ctx.table, default_pool, 0, str_hash, strcmp);
	hash_table_create(&read_ctx.by_uidl, default_pool, 0, str_hash, strcmp);
	if (uidl_import_read_legacy(fd, path, &read_ctx, &stats.legacy_entries,
				    error_r) < 0) {
		uidl_import_free(&read_ctx);
		return -1;
	}

	ns = mail_namespace_find_inbox(user->namespaces);
	box = mailbox_alloc(ns->list, "INBOX", 0);
	if (mailbox_sync(box, MAILBOX_SYNC_FLAG_FULL_READ) < 0) {
		*error_r = t_strdup_printf("Couldn't open INBOX: %s",
			mailbox_get_last_internal_error(box, NULL));
		ret = -1;
	} else if (uidl_map_open(box, &map, error_r) < 0) {
		ret = -1;
	}
	if (ret < 0) {
		mailbox_free(&box);
		uidl_import_free(&read_ctx);
		return -1;
	}
	mailbox_get_open_status(box, STATUS_UIDVALIDITY, &status);

	trans = mailbox_transaction_begin(box, 0, __func__);
	args = mail_search_build_init();
	mail_search_build_add_all(args);
	ctx = mailbox_search_init(trans, args, NULL, MAIL_FETCH_VIRTUAL_SIZE,
				  NULL);
	mail_search_args_unref(&args);
	while (ret == 0 && mailbox_search_next(ctx, &mail)) T_BEGIN {
		const char *backend, *guid, *md5, *kept;
		struct legacy_entry *e;
		uoff_t size;

		if (mail_get_special(mail, MAIL_FETCH_UIDL_BACKEND,
				     &backend) == 0 && backend[0] != '\0') {
			uidl_import_mark_kept(read_ctx.by_uidl, backend);
			stats.kept++;
		} else if (mail_get_special(mail, MAIL_FETCH_GUID, &guid) < 0 ||
			   guid[0] == '\0' ||
			   mail_get_virtual_size(mail, &size) < 0 ||
			   uidl_import_header_md5(mail, &md5) < 0) {
			/* the error is made outside this frame */
			failed_uid = mail->uid;
			ret = -1;
		} else if ((kept = uidl_map_lookup_message(map, guid,
				status.uidvalidity, mail->uid)) != NULL) {
			uidl_import_mark_kept(read_ctx.by_uidl, kept);
			stats.kept++;
		} else if (uidl_import_match(read_ctx.table, mail, md5, size,
					     &stats, &e) < 0) {
			failed_uid = mail->uid;
			ret = -1;
		} else if (e == NULL) {
			stats.unmatched_local++;
		} else if (uidl_map_uidl_used(map, e->uidl)) {
			e->used = TRUE;
			stats.conflicts++;
		} else {
			e->used = TRUE;
			(void)uidl_map_add_message(map, guid,
				status.uidvalidity, mail->uid, e->uidl);
			stats.matched++;
		}
	} T_END;
	if (ret < 0) {
		*error_r = t_strdup_printf("Couldn't read UID %u: %s",
			failed_uid, mailbox_get_last_internal_error(box, NULL));
	}
	if (mailbox_search_deinit(&ctx) < 0 && ret == 0) {
		*error_r = mailbox_get_last_internal_error(box, NULL);
		ret = -1;
	}
	(void)mailbox_transaction_commit(&trans);
	if (ret == 0 && uidl_map_commit(map, &dropped, error_r) < 0)
		ret = -1;
	/* the map got a UIDL for these messages (or gave these UIDLs to
	   others) while we matched: what was saved first is kept */
	i_assert(dropped <= stats.matched);
	stats.matched -= dropped;
	stats.conflicts += dropped;
	uidl_map_free(&map);
	mailbox_free(&box);
	unused_entries = uidl_import_unused(&read_ctx);
	uidl_import_free(&read_ctx);
	uidl_import_event(user, &stats, unused_entries,
			  ret < 0 ? *error_r : NULL);

	if (ret == 0) {
		str_printfa(report, "legacy entries: %u\n"
			    "matched and imported: %u\n"
			    "kept (already had a permanent UIDL): %u\n"
			    "not matched: %u\n"
			    "same header, told apart by body: %u\n"
			    "same header, told apart by size: %u\n"
			    "same header and size, matched in maildrop order: %u\n"
			    "UIDL already in use (skipped): %u\n"
			    "legacy entries without a message: %u\n",
			    stats.legacy_entries, stats.matched, stats.kept,
			    stats.unmatched_local, stats.by_body, stats.by_size,
			    stats.by_order, stats.conflicts, unused_entries);
	}
	return ret;
}
