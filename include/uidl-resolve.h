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
     3. with altpop_reuse_xuidl, the message's X-UIDL header, when it is
        a valid UIDL (an invalid one is reported and passed over),
     4. the configured format, expanded for the message.
   1 and 2 are permanent: they keep their value, and claim it before any
   generated UIDL. */

#include "uidl-unique.h"
#include "pop3-options.h"

/* One message while UIDLs are worked out. */
struct uidl_resolve_item {
	uint32_t seq, uid;
	/* the permanent UIDL or the expanded format; after
	   uidl_resolve() the final, unique one */
	const char *uidl;
	/* the message's GUID when it was looked up, else NULL */
	const char *guid;
	/* the caller's: the folder the message is in */
	uint16_t folder;
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
	/* the X-UIDL header, "" if none */
	int (*header)(void *context, const char **uidl_r);
	/* a stored UIDL or X-UIDL header (what says which) that is not a
	   valid POP3 UIDL (to be reported) */
	void (*invalid)(void *context, const char *what, const char *uidl);
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
	/* the X-UIDL header is asked before the format */
	bool reuse_xuidl;
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
   is empty and every generated UIDL is the message's own (a format that
   gives every UID its own UIDL, and no X-UIDL headers asked). Then no
   uniqueness table is needed. */
bool uidl_resolve_is_trivial(const struct uidl_resolve_item *items,
			     unsigned int count, bool map_nonempty,
			     bool generated_injective);

struct uidl_resolve_rules {
	/* what to do with duplicates (altpop_uidl_duplicates) */
	enum pop3_uidl_duplicates duplicates;
	/* every generated UIDL is saved (altpop_save_uidl) */
	bool save_all;
	/* uidl_resolve_is_trivial() said so */
	bool trivial;
	/* with POP3_UIDL_DUPLICATES_UNIQUE, a generated UIDL also counts as
	   taken when reserved() says so (the map keeps it for another
	   message); may be NULL */
	uidl_taken_func_t *reserved;
	void *context;
};

/* Resolve duplicate UIDLs as rules->duplicates says:
   - UNIQUE: permanent ones first (they keep their value where at all
     possible), then the generated ones in the order of items; a
     duplicate gets the suffix uidl_make_unique() gives it. A renamed
     UIDL is always saved (it must not change once the message it
     collided with is expunged).
   - ALLOW: every UIDL stays as it is.
   - RENAME: in the order of items (sequence order), a UIDL an earlier
     one has gets "-2", the next one "-3" ... (as Dovecot's pop3 does).
   Renamed strings are allocated from pool. Sets item->save for generated
   UIDLs to be remembered: all of them with save_all, a renamed one as
   said above, and one whose GUID is shared (its UIDL must not turn into
   the other message's). Every item is handled in a data stack frame of
   its own. */
void uidl_resolve(struct uidl_resolve_item *items, unsigned int count,
		  const struct uidl_resolve_rules *rules, pool_t pool);

#endif
