/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_SERVICES_H
#define KPOP_SERVICES_H

#include <ctype.h>

/* The service names KPOP accepts tickets for (<service>/<host>@REALM):
   altpop-login's altpop_kpop_services, checked by its settings check, sent
   in front of the KPOP mechanism's initial response as
     KPOP_SERVICES_MARK <name> { " " <name> } NUL
   and enforced by the mechanism in the auth process (which falls back to
   KPOP_SERVICES_DEFAULT when the login process sends none). fetchmail asks
   for pop/<host>, Emacs movemail for pop3/<host>. */
#define KPOP_SERVICES_DEFAULT "pop pop3"
#define KPOP_SERVICES_MARK 'S'
/* limits of the list */
#define KPOP_SERVICES_MAX_COUNT 8
#define KPOP_SERVICE_NAME_MAX_LEN 32

/* Returns TRUE if list is a valid service list, else FALSE with *error_r. */
static inline bool
kpop_services_check(const char *list, const char **error_r)
{
	const char *const *names = t_strsplit_spaces(list, " ");
	unsigned int count = str_array_length(names);

	if (count == 0) {
		*error_r = "must name at least one service (e.g. pop pop3)";
		return FALSE;
	}
	if (count > KPOP_SERVICES_MAX_COUNT) {
		*error_r = t_strdup_printf("more than %u services",
					   KPOP_SERVICES_MAX_COUNT);
		return FALSE;
	}
	for (; *names != NULL; names++) {
		const char *p;

		if (strlen(*names) > KPOP_SERVICE_NAME_MAX_LEN) {
			*error_r = t_strdup_printf(
				"service name %s is longer than %u characters",
				*names, KPOP_SERVICE_NAME_MAX_LEN);
			return FALSE;
		}
		for (p = *names; *p != '\0'; p++) {
			if (!i_isalnum(*p) && *p != '-' && *p != '_' &&
			    *p != '.') {
				*error_r = t_strdup_printf(
					"invalid service name '%s' (the part "
					"before the / of the principal: "
					"letters, digits, - _ .)", *names);
				return FALSE;
			}
		}
	}
	return TRUE;
}

#endif
