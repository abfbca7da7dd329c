/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef RETRIEVED_FILE_H
#define RETRIEVED_FILE_H

/* The EXPIRE state file format: when each message was first retrieved.
     "altpop-retrieved 1" LF
     { <uidvalidity> "/" <uid> TAB <unix time> LF }
   UIDVALIDITY and UID are decimal 1..4294967295, the time decimal seconds
   0..STATE_FILE_TIME_MAX; one line per message, empty lines are ignored.
   Pure: parses and writes bytes the caller reads and writes; the entries
   are an array sorted by (uidvalidity, uid), written in that order. */

#include "array.h"

#define RETRIEVED_FILE_HEADER "altpop-retrieved 1"
/* longest line of a retrieved file: the longest entry is 35 characters */
#define RETRIEVED_FILE_MAX_LINE 64

struct retrieved_entry {
	uint32_t uid_validity, uid;
	/* the first retrieval */
	time_t first;
};
ARRAY_DEFINE_TYPE(retrieved_entry, struct retrieved_entry);

/* Parse a retrieved file's content into entries (appended to an empty,
   initialised array; sorted). An empty content (the file does not exist
   yet) has no entries. Returns 0, or -1 with *error_r naming the line and
   what is wrong with it (from the caller's data stack frame); entries are
   then left empty. */
int retrieved_file_parse(const unsigned char *data, size_t size,
			 ARRAY_TYPE(retrieved_entry) *entries,
			 const char **error_r);

/* Append the content of a retrieved file holding entries (sorted). */
void retrieved_file_write(string_t *dest,
			  const ARRAY_TYPE(retrieved_entry) *entries);

/* The entry of a message, or NULL. */
const struct retrieved_entry *
retrieved_entries_find(const ARRAY_TYPE(retrieved_entry) *entries,
		       uint32_t uid_validity, uint32_t uid);
/* Record a message's first retrieval at first, keeping its entry when it
   has one already. Returns TRUE if the entry was added. */
bool retrieved_entries_add(ARRAY_TYPE(retrieved_entry) *entries,
			   uint32_t uid_validity, uint32_t uid, time_t first);

#endif
