/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef ALTPOP_LIMITS_H
#define ALTPOP_LIMITS_H

/* Limits shared by both binaries. */

/* A UIDL is 1..70 characters in the range 0x21..0x7E (RFC 1939). */
#define ALTPOP_UIDL_MAX_LEN 70
/* how often UIDLs are worked out again when another writer saved
   conflicting UIDL map entries between our read and our commit */
#define ALTPOP_UIDL_MAP_MAX_ATTEMPTS 3

#endif
