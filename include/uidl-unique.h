/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef UIDL_UNIQUE_H
#define UIDL_UNIQUE_H

/* Unique UIDLs within a maildrop: a UIDL another message already has
   gets "-<uid>" appended, then "-<uid>-2", "-<uid>-3", ... until it is
   free. The suffix depends only on the message's own UID, so every view of
   the maildrop (SDPS) and every later session picks the same one. The base
   is cut so that the result stays within ALTPOP_UIDL_MAX_LEN; a valid
   UIDL stays valid. Pure: who holds which UIDL is the caller's. */

/* TRUE if uidl is taken (by another message, or reserved). */
typedef bool uidl_taken_func_t(const char *uidl, void *context);

/* str holds a valid UIDL. If taken() says it is taken, replace it with the
   first free suffixed form and return TRUE; else leave it and return
   FALSE. */
bool uidl_make_unique(string_t *str, uint32_t uid,
		      uidl_taken_func_t *taken, void *context);

#endif
