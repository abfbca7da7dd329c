#ifndef UIDL_MAP_H
#define UIDL_MAP_H

struct mailbox;
struct uidl_map;

/* Load the map of a maildrop (an absent file is an empty map). */
int uidl_map_open(struct mailbox *box, struct uidl_map **map_r,
		  const char **error_r);
void uidl_map_free(struct uidl_map **map);

const char *uidl_map_lookup(struct uidl_map *map, const char *guid);
bool uidl_map_uidl_used(struct uidl_map *map, const char *uidl);
unsigned int uidl_map_count(struct uidl_map *map);
/* Add a UIDL for a GUID that has none; FALSE if it already has one (an
   existing entry is never changed). */
bool uidl_map_add(struct uidl_map *map, const char *guid, const char *uidl);
/* Write the map if anything was added. */
int uidl_map_commit(struct uidl_map *map, const char **error_r);

#endif
