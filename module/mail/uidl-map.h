/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_MAP_H
#define UIDL_MAP_H

struct mailbox;
struct uidl_map;

/* Load the map of a maildrop (an absent file is an empty map). */
int uidl_map_open(struct mailbox *box, struct uidl_map **map_r,
		  const char **error_r);
void uidl_map_free(struct uidl_map **map);

/* The map's UIDL of one message (NULL if none). Call it for the messages
   of a maildrop in maildrop order: an entry keyed by a plain GUID belongs
   to the first message with that GUID; the others with the same GUID
   only find entries under their own key (guid, uidvalidity, uid). */
const char *uidl_map_lookup_message(struct uidl_map *map, const char *guid,
				    uint32_t uidvalidity, uint32_t uid);
/* TRUE if the map has an entry under the plain GUID (after
   uidl_map_lookup_message() found nothing for a message with this GUID:
   the entry is another message's). */
bool uidl_map_guid_has_entry(struct uidl_map *map, const char *guid);
/* Add a message's UIDL (after uidl_map_lookup_message() found none): under
   its plain GUID if no other message of the maildrop claimed that, else
   under its own key. FALSE if the message already has one. */
bool uidl_map_add_message(struct uidl_map *map, const char *guid,
			  uint32_t uidvalidity, uint32_t uid, const char *uidl);
bool uidl_map_uidl_used(struct uidl_map *map, const char *uidl);
unsigned int uidl_map_count(struct uidl_map *map);
/* Add a UIDL under a key that has none; FALSE if it already has one (an
   existing entry is never changed). */
bool uidl_map_add(struct uidl_map *map, const char *key, const char *uidl);
/* Write the map if anything was added: under the lock, the file is re-read
   and our additions merged into it. Entries already in the file win; the
   number of ours that lost (their GUID has another UIDL in the file, or
   their UIDL is another GUID's) is *dropped_r. Afterwards the map is what
   the file holds. -1 on error; UIDL_MAP_COMMIT_UNWRITTEN when the storage
   refused the write (out of space or quota, an I/O error, a read-only
   file system). On either the file is left as it was (the new one is
   written beside it and renamed over it) and *error_r says why. */
#define UIDL_MAP_COMMIT_UNWRITTEN (-2)
int uidl_map_commit(struct uidl_map *map, unsigned int *dropped_r,
		    const char **error_r);

#endif
