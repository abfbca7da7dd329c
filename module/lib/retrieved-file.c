/* SPDX-License-Identifier: LGPL-2.1-only */
/* The EXPIRE state file format (retrieved-file.h). */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "bsearch-insert-pos.h"
#include "state-file-format.h"
#include "retrieved-file.h"

static int retrieved_entry_cmp(const struct retrieved_entry *e1,
			       const struct retrieved_entry *e2)
{
	if (e1->uid_validity != e2->uid_validity)
		return e1->uid_validity < e2->uid_validity ? -1 : 1;
	if (e1->uid != e2->uid)
		return e1->uid < e2->uid ? -1 : 1;
	return 0;
}

/* Parse one entry line; returns 0, or -1 with *reason_r (static). */
static int retrieved_file_parse_entry(const struct state_file_span *line,
				      struct retrieved_entry *entry_r,
				      const char **reason_r)
{
	const unsigned char *tab, *slash, *end = line->data + line->len;
	struct state_file_span uid_validity, uid, first;
	uint64_t num;

	tab = memchr(line->data, '\t', line->len);
	slash = memchr(line->data, '/', line->len);
	if (tab == NULL || memchr(tab + 1, '\t', end - (tab + 1)) != NULL ||
	    slash == NULL || slash > tab) {
		*reason_r = "expected <uidvalidity>/<uid> TAB <time>";
		return -1;
	}
	uid_validity.data = line->data;
	uid_validity.len = slash - line->data;
	uid.data = slash + 1;
	uid.len = tab - (slash + 1);
	first.data = tab + 1;
	first.len = end - (tab + 1);

	if (state_file_number_parse(&uid_validity, (uint32_t)-1, &num) < 0 ||
	    num == 0) {
		*reason_r = "the UIDVALIDITY is not a number from 1 to "
			"4294967295";
		return -1;
	}
	entry_r->uid_validity = (uint32_t)num;
	if (state_file_number_parse(&uid, (uint32_t)-1, &num) < 0 ||
	    num == 0) {
		*reason_r = "the UID is not a number from 1 to 4294967295";
		return -1;
	}
	entry_r->uid = (uint32_t)num;
	if (state_file_time_parse(&first, &entry_r->first) < 0) {
		*reason_r = "the time is not decimal seconds since 1970";
		return -1;
	}
	return 0;
}

static int
retrieved_file_parse_lines(const unsigned char *data, size_t size,
			   ARRAY_TYPE(retrieved_entry) *entries,
			   unsigned int *linenum_r, const char **reason_r)
{
	struct state_file_span line;
	struct retrieved_entry entry;
	const struct retrieved_entry *e;
	unsigned int i, count;
	size_t pos = 0;
	bool sorted = TRUE;

	*linenum_r = 1;
	if (state_file_next_line(data, size, &pos, RETRIEVED_FILE_MAX_LINE,
				 &line) != STATE_FILE_LINE_OK ||
	    !state_file_span_equals(&line, RETRIEVED_FILE_HEADER)) {
		*reason_r = "not an altpop-retrieved file (bad first line)";
		return -1;
	}
	for (;;) {
		switch (state_file_next_line(data, size, &pos,
					     RETRIEVED_FILE_MAX_LINE, &line)) {
		case STATE_FILE_LINE_OK:
			break;
		case STATE_FILE_LINE_END:
			goto end;
		case STATE_FILE_LINE_TOO_LONG:
			(*linenum_r)++;
			*reason_r = "the line is too long";
			return -1;
		}
		(*linenum_r)++;
		if (line.len == 0) {
			/* empty lines are no entries */
			continue;
		}
		if (retrieved_file_parse_entry(&line, &entry, reason_r) < 0)
			return -1;
		if (array_count(entries) > 0 &&
		    retrieved_entry_cmp(array_back(entries), &entry) >= 0)
			sorted = FALSE;
		array_push_back(entries, &entry);
	}
end:
	if (sorted)
		return 0;
	/* not written by altpop (it writes them sorted): allowed, but the
	   same message twice is not */
	array_sort(entries, retrieved_entry_cmp);
	e = array_get(entries, &count);
	for (i = 1; i < count; i++) {
		if (retrieved_entry_cmp(&e[i - 1], &e[i]) == 0) {
			*linenum_r = 0;
			*reason_r = "the same message is listed twice";
			return -1;
		}
	}
	return 0;
}

int retrieved_file_parse(const unsigned char *data, size_t size,
			 ARRAY_TYPE(retrieved_entry) *entries,
			 const char **error_r)
{
	const char *reason;
	unsigned int linenum;

	i_assert(array_count(entries) == 0);
	if (size == 0)
		return 0;
	if (memchr(data, '\0', size) != NULL) {
		*error_r = "not an altpop-retrieved file (NUL byte)";
		return -1;
	}
	if (retrieved_file_parse_lines(data, size, entries, &linenum,
				       &reason) < 0) {
		array_clear(entries);
		*error_r = linenum == 0 ? reason :
			t_strdup_printf("line %u: %s", linenum, reason);
		return -1;
	}
	return 0;
}

void retrieved_file_write(string_t *dest,
			  const ARRAY_TYPE(retrieved_entry) *entries)
{
	const struct retrieved_entry *e;

	str_append(dest, RETRIEVED_FILE_HEADER"\n");
	array_foreach(entries, e) {
		i_assert(e->first >= 0 && e->first <= STATE_FILE_TIME_MAX);
		str_printfa(dest, "%u/%u\t%lld\n", e->uid_validity, e->uid,
			    (long long)e->first);
	}
}

const struct retrieved_entry *
retrieved_entries_find(const ARRAY_TYPE(retrieved_entry) *entries,
		       uint32_t uid_validity, uint32_t uid)
{
	const struct retrieved_entry key = {
		.uid_validity = uid_validity,
		.uid = uid,
	};
	const struct retrieved_entry *e;
	unsigned int count, idx;

	e = array_get(entries, &count);
	if (!bsearch_insert_pos(&key, e, count, sizeof(*e),
				retrieved_entry_cmp, &idx))
		return NULL;
	return &e[idx];
}

bool retrieved_entries_add(ARRAY_TYPE(retrieved_entry) *entries,
			   uint32_t uid_validity, uint32_t uid, time_t first)
{
	const struct retrieved_entry entry = {
		.uid_validity = uid_validity,
		.uid = uid,
		.first = first,
	};
	unsigned int idx;

	if (array_bsearch_insert_pos(entries, &entry, retrieved_entry_cmp,
				     &idx))
		return FALSE;
	array_insert(entries, idx, &entry, 1);
	return TRUE;
}
