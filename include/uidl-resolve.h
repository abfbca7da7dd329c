/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_RESOLVE_H
#define UIDL_RESOLVE_H

/* How a maildrop's UIDLs are worked out, apart from the mail storage:
   which source gives a message its UIDL, and how the UIDLs of a maildrop
   are made unique and which of them must be remembered in the UIDL map.
   The storage is reached only through the callbacks, so every rule here
   is unit-tested without a mailbox (tests/unit/test-uidl-resolve.c).

   Sources, the first that has one:
     1. a valid UIDL the storage keeps for the message (Dovecot's
        pop3-migration plugin, pop3_save_uidl); an invalid one is reported
        and passed over,
     2. the UIDL map's entry for the message (by GUID),
     3. the configured format, expanded for the message.
   1 and 2 are permanent: they keep their value, and claim it before any
   generated UIDL. */

#include "uidl-unique.h"

/* One message while UIDLs are worked out. */
struct uidl_resolve_item {
	uint32_t seq, uid;
	/* the permanent UIDL or the expanded format; after
	   uidl_resolve() the final, unique one */
	const char *uidl;
	/* the message's GUID when it was looked up, else NULL */
	const char *guid;
	/* it came from the storage or the map */
	bool permanent;
	/* another message with the same GUID has the map's plain-GUID entry:
	   this one's UIDL must be remembered under its own key, or it would
	   take that entry over once the other message is expunged */
	bool guid_shared;
	/* set by uidl_resolve(): the UIDL is to be added to the map */
	bool save;
};

/* The storage and the map, as uidl_resolve_item_read() sees them. Each
   returns 0 on success and -1 on an error it has logged. Strings they
   return may live in the data stack: what is kept is copied. */
struct uidl_resolve_sources {
	/* the UIDL the storage keeps, "" if none */
	int (*stored)(void *context, const char **uidl_r);
	/* a stored UIDL that is not a valid POP3 UIDL (to be reported) */
	void (*stored_invalid)(void *context, const char *uidl);
	int (*guid)(void *context, const char **guid_r);
	/* the map's UIDL for the message, or NULL */
	const char *(*map_lookup)(void *context, const char *guid);
	/* the map has the plain-GUID entry of guid (see guid_shared) */
	bool (*map_guid_has_entry)(void *context, const char *guid);
	/* the format expanded for the message (guid may be NULL) */
	int (*expand)(void *context, const char *guid, const char **uidl_r);
};

struct uidl_resolve_policy {
	/* the map has entries */
	bool map_nonempty;
	/* every generated UIDL is saved (altpop_save_uidl) */
	bool save_all;
	/* the format uses the message GUID */
	bool format_needs_guid;
};

/* Fill item (seq and uid set by the caller) from the first source that
   has a UIDL, copying what is kept into pool. With permanent_only only the
   storage and the map are asked. Returns 1 when filled, 0 when
   permanent_only is set and the message has no permanent UIDL, -1 on a
   source's error. */
int uidl_resolve_item_read(const struct uidl_resolve_sources *sources,
			   void *context,
			   const struct uidl_resolve_policy *policy,
			   bool permanent_only, pool_t pool,
			   struct uidl_resolve_item *item);

/* TRUE if none of items' UIDLs can collide: none is permanent, the map
   is empty and the format gives every UID its own UIDL. Then no
   uniqueness table is needed. */
bool uidl_resolve_is_trivial(const struct uidl_resolve_item *items,
			     unsigned int count, bool map_nonempty,
			     bool format_injective);

/* Make every item's UIDL unique: permanent ones first (they keep their
   value where at all possible), then the generated ones in the order of
   items; a duplicate gets the suffix uidl_make_unique() gives it
   (renamed strings are allocated from pool). A generated UIDL also
   counts as taken when reserved() says so (the map keeps it for another
   message). Sets item->save for generated UIDLs to be remembered: all of
   them with save_all, and always a renamed one or one whose GUID is
   shared (it must not change once the other message is expunged).
   Every item is handled in a data stack frame of its own. */
void uidl_resolve(struct uidl_resolve_item *items, unsigned int count,
		  bool save_all, bool trivial, uidl_taken_func_t *reserved,
		  void *context, pool_t pool);

#endif
