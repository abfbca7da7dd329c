/* SPDX-License-Identifier: LGPL-2.1-only */
#ifndef KPOP_LIMITS_H
#define KPOP_LIMITS_H

/* Limits shared by the KPOP wire codec (sendauth.h), the login<->auth
   messages (kpop-mech-msg.h), altpop-login's KPOP states and the auth
   mechanism. Lengths on both wires are big-endian (Dovecot's byteorder.h). */

/* Largest AP-REQ accepted. Tickets carrying a PAC (Active Directory) are
   several kilobytes, much more than a POP3 command line. */
#define KPOP_MAX_AP_REQ_SIZE (64 * 1024)
/* Longest USER name on the KPOP port (checked by altpop-login before it is
   passed on, and again by the mechanism). */
#define KPOP_MAX_USER_LEN 255

#endif
