/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_IMPORT_H
#define UIDL_IMPORT_H

struct mail_user;

/* Import a legacy UIDL file (opened as fd, before privileges were dropped)
   into the user's INBOX UIDL map and append a human-readable report.
   Returns 0 or -1 with *error_r. */
int altpop_uidl_import(struct mail_user *user, int fd, const char *path,
		       string_t *report, const char **error_r);

#endif
