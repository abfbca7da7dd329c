/* SPDX-License-Identifier: LGPL-2.1-only */
/* Unique UIDLs within a maildrop: see uidl-unique.h. */

#include "lib.h"
#include "str.h"
#include "altpop-limits.h"
#include "uidl-unique.h"

bool uidl_make_unique(string_t *str, uint32_t uid,
		      uidl_taken_func_t *taken, void *context)
{
	const char *base, *suffix;
	unsigned int n = 1;

	if (!taken(str_c(str), context))
		return FALSE;
	base = t_strdup(str_c(str));
	do {
		suffix = n == 1 ? t_strdup_printf("-%u", uid) :
			t_strdup_printf("-%u-%u", uid, n);
		str_truncate(str, 0);
		str_append_data(str, base, I_MIN(strlen(base),
			ALTPOP_UIDL_MAX_LEN - strlen(suffix)));
		str_append(str, suffix);
		n++;
	} while (taken(str_c(str), context));
	return TRUE;
}
