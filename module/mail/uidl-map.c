/* SPDX-License-Identifier: LGPL-2.1-only */
/* The UIDL map: UIDLs that must never change. It holds UIDLs saved the
   first time they were shown (altpop_save_uidl) and UIDLs imported from a
   legacy server. One file per maildrop in INBOX's index directory, in the
   format of uidl-map-file.h.

   An entry's key is the message GUID (which survives UIDVALIDITY changes
   and index rebuilds). GUIDs are not always unique in a maildrop: doveadm
   import from an mbox derives them from a Received: header, which may be
   the same for every message. So an entry keyed by a plain GUID belongs
   to the first message (in maildrop order) that has this GUID, and the
   other messages with it are keyed "<guid>/<uidvalidity>/<uid>"
   (uidl_map_lookup_message() and uidl_map_add_message() do this). A key
   holds no '/' otherwise: GUIDs are hex or maildir base names. */

#include "lib.h"
#include "array.h"
#include "hash.h"
#include "istream.h"
#include "ostream.h"
#include "str.h"
#include "file-dotlock.h"
#include "mail-storage-private.h"
#include "uidl-map-file.h"
#include "uidl-map.h"
#include "state-file.h"
#include "altpop-events.h"

#include <unistd.h>
#include <fcntl.h>

#define UIDL_MAP_FNAME "dovecot-altpop-uidl-map"
/* lock timing for rewriting the map */
#define UIDL_MAP_LOCK_TIMEOUT_SECS 10
#define UIDL_MAP_LOCK_STALE_SECS 60

HASH_TABLE_DEFINE_TYPE(uidl_map_str, char *, char *);

struct uidl_map_entry {
	const char *guid, *uidl;
};
ARRAY_DEFINE_TYPE(uidl_map_entry, struct uidl_map_entry);

struct uidl_map {
	pool_t pool;
	char *path;
	/* the mailbox's: parent of the merge conflict event */
	struct event *event;
	HASH_TABLE_TYPE(uidl_map_str) by_guid;
	HASH_TABLE_TYPE(uidl_map_str) by_uidl;
	/* entries added since the map was read: merged into the file as it
	   is when committing */
	ARRAY_TYPE(uidl_map_entry) added;
	/* plain-GUID keys a message of this maildrop already claimed */
	HASH_TABLE_TYPE(uidl_map_str) claimed;
};

static void uidl_map_insert(struct uidl_map *map, const char *guid,
			    const char *uidl)
{
	char *g = p_strdup(map->pool, guid), *u = p_strdup(map->pool, uidl);

	hash_table_update(map->by_guid, g, u);
	hash_table_update(map->by_uidl, u, g);
}

static void uidl_map_read_entry(const char *guid, const char *uidl,
				void *context)
{
	uidl_map_insert(context, guid, uidl);
}

static int uidl_map_read(struct uidl_map *map, const char **error_r)
{
	struct istream *input;
	int ret;

	hash_table_clear(map->by_guid, TRUE);
	hash_table_clear(map->by_uidl, TRUE);
	input = i_stream_create_file(map->path, UIDL_MAP_FILE_MAX_LINE);
	ret = uidl_map_file_read(input, map->path, uidl_map_read_entry, map,
				 error_r);
	i_stream_unref(&input);
	return ret;
}

int uidl_map_open(struct mailbox *box, struct uidl_map **map_r,
		  const char **error_r)
{
	struct uidl_map *map;
	const char *dir;
	pool_t pool;

	if (mailbox_get_path_to(box, MAILBOX_LIST_PATH_TYPE_INDEX, &dir) <= 0) {
		*error_r = "the mail storage has no index directory for the "
			"UIDL map";
		return -1;
	}
	pool = pool_alloconly_create("altpop uidl map", 4096);
	map = p_new(pool, struct uidl_map, 1);
	map->pool = pool;
	map->path = p_strdup_printf(pool, "%s/"UIDL_MAP_FNAME, dir);
	map->event = box->event;
	event_ref(map->event);
	hash_table_create(&map->by_guid, default_pool, 0, str_hash, strcmp);
	hash_table_create(&map->by_uidl, default_pool, 0, str_hash, strcmp);
	hash_table_create(&map->claimed, default_pool, 0, str_hash, strcmp);
	p_array_init(&map->added, pool, 16);
	if (uidl_map_read(map, error_r) < 0) {
		uidl_map_free(&map);
		return -1;
	}
	*map_r = map;
	return 0;
}

void uidl_map_free(struct uidl_map **_map)
{
	struct uidl_map *map = *_map;

	if (map == NULL)
		return;
	*_map = NULL;
	hash_table_destroy(&map->by_guid);
	hash_table_destroy(&map->by_uidl);
	hash_table_destroy(&map->claimed);
	event_unref(&map->event);
	pool_unref(&map->pool);
}

static const char *
uidl_map_message_key(const char *guid, uint32_t uidvalidity, uint32_t uid)
{
	return t_strdup_printf("%s/%u/%u", guid, uidvalidity, uid);
}

/* The message a plain GUID key belongs to in this maildrop: the first
   one looked up or added with that GUID. TRUE if that is this message. */
static bool uidl_map_claim(struct uidl_map *map, const char *guid,
			   uint32_t uidvalidity, uint32_t uid)
{
	const char *owner = t_strdup_printf("%u/%u", uidvalidity, uid);
	const char *claimer = hash_table_lookup(map->claimed, guid);

	if (claimer == NULL) {
		hash_table_insert(map->claimed, p_strdup(map->pool, guid),
				  p_strdup(map->pool, owner));
		return TRUE;
	}
	return strcmp(claimer, owner) == 0;
}

const char *uidl_map_lookup_message(struct uidl_map *map, const char *guid,
				    uint32_t uidvalidity, uint32_t uid)
{
	const char *value;

	value = hash_table_lookup(map->by_guid,
		uidl_map_message_key(guid, uidvalidity, uid));
	if (value != NULL)
		return value;
	if (!uidl_map_claim(map, guid, uidvalidity, uid))
		return NULL;
	return hash_table_lookup(map->by_guid, guid);
}

bool uidl_map_guid_has_entry(struct uidl_map *map, const char *guid)
{
	return hash_table_lookup(map->by_guid, guid) != NULL;
}

bool uidl_map_add_message(struct uidl_map *map, const char *guid,
			  uint32_t uidvalidity, uint32_t uid, const char *uidl)
{
	if (uidl_map_claim(map, guid, uidvalidity, uid))
		return uidl_map_add(map, guid, uidl);
	return uidl_map_add(map, uidl_map_message_key(guid, uidvalidity, uid),
			    uidl);
}

bool uidl_map_uidl_used(struct uidl_map *map, const char *uidl)
{
	return hash_table_lookup(map->by_uidl, uidl) != NULL;
}

unsigned int uidl_map_count(struct uidl_map *map)
{
	return hash_table_count(map->by_guid);
}

bool uidl_map_add(struct uidl_map *map, const char *guid, const char *uidl)
{
	struct uidl_map_entry *e;

	if (hash_table_lookup(map->by_guid, guid) != NULL)
		return FALSE;
	uidl_map_insert(map, guid, uidl);
	/* the copies the tables hold (in map->pool) */
	e = array_append_space(&map->added);
	e->guid = hash_table_lookup(map->by_uidl, uidl);
	e->uidl = hash_table_lookup(map->by_guid, guid);
	return TRUE;
}

/* Re-read the file (under the lock) and add our entries to it. An entry in
   the file wins over ours: a saved UIDL never changes. Ours is dropped when
   the file has another UIDL for its GUID, or gives its UIDL to another
   GUID. */
static int uidl_map_merge(struct uidl_map *map, unsigned int *dropped_r,
			  const char **error_r)
{
	const struct uidl_map_entry *e;
	const char *value;

	*dropped_r = 0;
	if (uidl_map_read(map, error_r) < 0)
		return -1;
	array_foreach(&map->added, e) {
		if ((value = hash_table_lookup(map->by_guid, e->guid)) != NULL) {
			if (strcmp(value, e->uidl) != 0)
				(*dropped_r)++;
		} else if (hash_table_lookup(map->by_uidl, e->uidl) != NULL) {
			(*dropped_r)++;
		} else {
			uidl_map_insert(map, e->guid, e->uidl);
		}
	}
	return 0;
}

int uidl_map_commit(struct uidl_map *map, unsigned int *dropped_r,
		    const char **error_r)
{
	struct dotlock_settings set;
	struct dotlock *dotlock;
	struct ostream *output;
	struct hash_iterate_context *iter;
	char *guid, *uidl;
	string_t *line;
	int fd;

	*dropped_r = 0;
	if (array_count(&map->added) == 0)
		return 0;
	i_zero(&set);
	set.timeout = UIDL_MAP_LOCK_TIMEOUT_SECS;
	set.stale_timeout = UIDL_MAP_LOCK_STALE_SECS;
	fd = file_dotlock_open(&set, map->path, 0, &dotlock);
	if (fd == -1) {
		int err = errno;

		*error_r = t_strdup_printf("file_dotlock_open(%s) failed: %m",
					   map->path);
		return altpop_errno_storage_refused(err) ?
			UIDL_MAP_COMMIT_UNWRITTEN : -1;
	}
	/* others may have written the file since we read it */
	if (uidl_map_merge(map, dropped_r, error_r) < 0) {
		file_dotlock_delete(&dotlock);
		return -1;
	}
	if (*dropped_r > 0) {
		struct event *event = altpop_event_create(map->event,
			"altpop_uidl_map_conflict");

		event_add_int(event, "added_count", array_count(&map->added));
		event_add_int(event, "dropped_count", *dropped_r);
		e_debug(event, "UIDL map: %u of %u new entries lost to "
			"entries saved meanwhile", *dropped_r,
			array_count(&map->added));
		event_unref(&event);
	}
	output = o_stream_create_fd(fd, 0);
	o_stream_cork(output);
	o_stream_nsend_str(output, UIDL_MAP_FILE_HEADER"\n");
	line = t_str_new(128);
	iter = hash_table_iterate_init(map->by_guid);
	while (hash_table_iterate(iter, map->by_guid, &guid, &uidl)) {
		str_truncate(line, 0);
		uidl_map_file_line_append(line, guid, uidl);
		o_stream_nsend(output, str_data(line), str_len(line));
	}
	hash_table_iterate_deinit(&iter);
	/* the new file is written beside the old one (the lock file) and
	   renamed over it only when complete: a failure anywhere leaves the
	   old map as it was */
	if (o_stream_finish(output) < 0) {
		int err = output->stream_errno;

		*error_r = t_strdup_printf("write(%s) failed: %s", map->path,
					   o_stream_get_error(output));
		o_stream_destroy(&output);
		file_dotlock_delete(&dotlock);
		return altpop_errno_storage_refused(err) ?
			UIDL_MAP_COMMIT_UNWRITTEN : -1;
	}
	o_stream_destroy(&output);
	if (fdatasync(fd) < 0) {
		int err = errno;

		*error_r = t_strdup_printf("fdatasync(%s) failed: %m",
					   map->path);
		file_dotlock_delete(&dotlock);
		return altpop_errno_storage_refused(err) ?
			UIDL_MAP_COMMIT_UNWRITTEN : -1;
	}
	if (altpop_dotlock_replace(&dotlock) < 0) {
		int err = errno;

		*error_r = t_strdup_printf("rename(%s) failed: %m", map->path);
		return altpop_errno_storage_refused(err) ?
			UIDL_MAP_COMMIT_UNWRITTEN : -1;
	}
	array_clear(&map->added);
	return 0;
}
